#!/usr/bin/env bash
# Reproduction "he2015", reduced (scripts/reproduce.sh --reduced): the claim and margins are in the
# header of experiments/he2015.yaml; the check must print REPRODUCED and draw the figure.
source "$(dirname "$0")/lib.sh"
reproduce_reduced he2015
echo "physics_he2015: ok"
