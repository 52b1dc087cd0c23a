#!/usr/bin/env bash
# Builds the task tests (tests/framework/task_test.cpp) with clang++ under
# ASan and UBSan, against the scaf library of this build, and runs them:
# a task's state is built in place under clang as under GCC (clang 14 copied
# a state that GCC built in place, and freed what it owned twice).
# Usage: task_tests.sh CLANGXX SOURCE_DIR LIBSCAF OUT_DIR
set -euo pipefail
clangxx=$1 src=$2 libscaf=$3 out=$4
mkdir -p "$out"
"$clangxx" -std=c++20 -O1 -g -fsanitize=address,undefined \
  -fno-omit-frame-pointer \
  -I"$src/framework/include" -I"$src/framework/src" -I"$src/tests/common" \
  "$src/tests/framework/task_test.cpp" "$src/tests/common/main.cpp" \
  "$libscaf" -lgtest -lcaf_io -lcaf_core -lspdlog -lfmt -lpthread \
  -o "$out/scaf_task_tests_clang"
# UBSan stays recoverable so that the suppressions (CAF's code only) apply.
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$src/tests/ubsan.supp" \
LSAN_OPTIONS="suppressions=$src/tests/lsan.supp" "$out/scaf_task_tests_clang" --gtest_color=no \
  --gtest_filter='TaskTest.*'
