#!/usr/bin/env bash
# Set up (first run only) and run the batch refresh on the embedded Tianqiao dataset.
# Outputs go to data/processed/. Extra arguments are passed to `tqspatial refresh`.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
install_tqspatial "[all]"
cd "$ROOT"  # outputs go to ./data/processed, i.e. the repository's
exec "$VENV/bin/tqspatial" refresh "$@"
