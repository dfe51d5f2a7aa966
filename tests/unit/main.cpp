// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Catch2 v2 entry point for the unit tier.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
