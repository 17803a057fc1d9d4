#include "common/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace wsgid {
namespace {

bool ParseId(const std::string& text, unsigned long* id) {
  char* end = nullptr;
  *id = std::strtoul(text.c_str(), &end, 10);
  return !text.empty() && *end == '\0';
}

}  // namespace

StatusOr<Identity> ResolveIdentity(const std::string& user,
                                   const std::string& group) {
  Identity identity;
  unsigned long id = 0;
  if (!user.empty()) {
    passwd* pw = ParseId(user, &id) ? ::getpwuid(static_cast<uid_t>(id))
                                    : ::getpwnam(user.c_str());
    if (pw == nullptr && !ParseId(user, &id))
      return Status::InvalidArgument("--user: no such user '" + user + "'");
    identity.change_user = true;
    identity.uid = pw ? pw->pw_uid : static_cast<uid_t>(id);
    identity.gid = pw ? pw->pw_gid : static_cast<gid_t>(id);
    identity.change_group =
        true;  // a user's own group unless --group says otherwise
    if (pw) identity.user_name = pw->pw_name;
  }
  if (!group.empty()) {
    struct group* gr = ParseId(group, &id) ? ::getgrgid(static_cast<gid_t>(id))
                                           : ::getgrnam(group.c_str());
    if (gr == nullptr && !ParseId(group, &id))
      return Status::InvalidArgument("--group: no such group '" + group + "'");
    identity.change_group = true;
    identity.gid = gr ? gr->gr_gid : static_cast<gid_t>(id);
  }
  return identity;
}

Status DropPrivileges(const Identity& identity) {
  if (identity.change_group) {
    if (!identity.user_name.empty() &&
        ::initgroups(identity.user_name.c_str(), identity.gid) != 0)
      return Status::FromErrno("initgroups", errno);
    if (identity.user_name.empty() && identity.change_user &&
        ::setgroups(0, nullptr) != 0)
      return Status::FromErrno("setgroups", errno);
    if (::setgid(identity.gid) != 0) return Status::FromErrno("setgid", errno);
  }
  if (identity.change_user && ::setuid(identity.uid) != 0)
    return Status::FromErrno("setuid", errno);
  return Status::Ok();
}

}  // namespace wsgid
