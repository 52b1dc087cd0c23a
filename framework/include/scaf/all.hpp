#pragma once

/// Includes all of scaf's public headers.
#include "scaf/atoms.hpp"
#include "scaf/child_factory.hpp"
#include "scaf/collect.hpp"
#include "scaf/errc.hpp"
#include "scaf/fwd.hpp"
#include "scaf/handle.hpp"
#include "scaf/init.hpp"
#include "scaf/names.hpp"
#include "scaf/run.hpp"
#include "scaf/scheduler.hpp"
#include "scaf/scope.hpp"
#include "scaf/scope_options.hpp"
#include "scaf/scope_owner.hpp"
#include "scaf/scope_ref.hpp"
#include "scaf/spawn_in.hpp"
#include "scaf/task.hpp"
