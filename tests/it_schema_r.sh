# The R (hdf5r) example of docs/schema.md runs against a real output (skipped without hdf5r).
exec bash "$(dirname "$0")/schema_examples.sh" r
