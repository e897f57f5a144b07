#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Generates ./configure and the Makefile templates from a git checkout.
set -e
cd "$(dirname "$0")"
autoreconf --force --install --warnings=all
