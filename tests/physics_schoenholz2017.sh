#!/usr/bin/env bash
# Reproduction "schoenholz2017", reduced (scripts/reproduce.sh --reduced): the claim and margins are in the
# header of experiments/schoenholz2017.yaml; the check must print REPRODUCED and draw the figure.
source "$(dirname "$0")/lib.sh"
reproduce_reduced schoenholz2017
echo "physics_schoenholz2017: ok"
