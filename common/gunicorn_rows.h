// The settings rows that exist for Gunicorn's sake (issue 15): its worker
// class, process names, proxy headers, statsd, and the Gunicorn settings that
// mean nothing here (accepted with a reason) or are refused (with why and what
// to use instead). They are rows of the one settings table (common/settings.h),
// which places them after wsgid's own rows; they live here so that table's
// file holds wsgid's settings and this one the migration's.
//
// Built on first use of the table; pure.
#pragma once

#include <vector>

#include "common/settings.h"

namespace wsgid {

// The rows, in --help order.
std::vector<Setting> GunicornCompatibilityRows();

}  // namespace wsgid
