// Precompiled header for scaf's own targets (not installed, not public).
#pragma once

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>
