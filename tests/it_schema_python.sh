# The h5py example of docs/schema.md runs against a real output (skipped without h5py).
exec bash "$(dirname "$0")/schema_examples.sh" python
