#include "common/token_file.h"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace wsgid {

StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno("cannot read token file " + path, errno);
  std::ostringstream content;
  content << in.rdbuf();
  const std::string text = content.str();
  constexpr char kWhitespace[] = " \t\r\n\f\v";
  size_t begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string::npos)
    return Status::InvalidArgument("token file " + path + " is empty");
  size_t end = text.find_last_not_of(kWhitespace);
  std::string token = text.substr(begin, end - begin + 1);
  if (token.find_first_of("\r\n") != std::string::npos)
    return Status::InvalidArgument("token file " + path +
                                   " holds more than one line");
  return token;
}

}  // namespace wsgid
