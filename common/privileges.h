// Identity: the user and group workers run as (--user, --group), resolved by
// the master at start so a typo is a start-up error, and applied by each worker
// before it imports the application.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace wsgid {

struct Identity {
  bool change_user = false;
  bool change_group = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user_name;  // for initgroups
};

// Resolves names or numeric ids; empty strings mean "unchanged".
StatusOr<Identity> ResolveIdentity(const std::string& user,
                                   const std::string& group);

// setgid/initgroups/setuid in that order. REQUIRES: called before any thread
// starts.
Status DropPrivileges(const Identity& identity);

}  // namespace wsgid
