#include "ctl/command_args.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace wsgid::ctl {

Status CommandArgs::Error(const std::string& message) const {
  return Status::InvalidArgument(command_ + ": " + message);
}

StatusOr<std::optional<std::string>> CommandArgs::TakeOption(
    const std::string& name) {
  std::optional<std::string> value;
  for (size_t i = 0; i < words_.size();) {
    if (words_[i] == name) {
      if (i + 1 >= words_.size()) return Error(name + " needs a value");
      value = words_[i + 1];
      words_.erase(words_.begin() + i, words_.begin() + i + 2);
    } else if (words_[i].rfind(name + "=", 0) == 0) {
      value = words_[i].substr(name.size() + 1);
      words_.erase(words_.begin() + i);
    } else {
      ++i;
    }
  }
  return value;
}

StatusOr<bool> CommandArgs::TakeFlag(const std::string& name) {
  bool found = false;
  for (size_t i = 0; i < words_.size();) {
    if (words_[i] == name) {
      found = true;
      words_.erase(words_.begin() + i);
    } else if (words_[i].rfind(name + "=", 0) == 0) {
      return Error(name + " takes no value");
    } else {
      ++i;
    }
  }
  return found;
}

StatusOr<std::vector<std::string>> CommandArgs::Positionals(
    size_t min, size_t max, const std::string& what) {
  for (const std::string& word : words_) {
    // "-2" is a number (scale -2), not an option.
    bool negative_number = word.size() > 1 && word[0] == '-' &&
                           std::isdigit(static_cast<unsigned char>(word[1]));
    if (word.size() > 1 && word[0] == '-' && !negative_number) {
      return Error("unknown option " + word);
    }
  }
  if (words_.size() < min) {
    return Error(what.empty() ? "missing argument" : "expected " + what);
  }
  if (words_.size() > max) {
    std::string extra = words_[max];
    return Error("unexpected argument '" + extra + "'" +
                 (what.empty() ? "" : " (expected " + what + ")"));
  }
  return words_;
}

StatusOr<long long> ParseInteger(const std::string& text,
                                 const std::string& what) {
  long long value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+')
    ++begin;  // from_chars takes '-' but not '+'
  auto [stop, ec] = std::from_chars(begin, end, value);
  if (begin == end || ec != std::errc() || stop != end) {
    return Status::InvalidArgument(what + ": '" + text +
                                   "' is not a whole number");
  }
  return value;
}

StatusOr<double> ParseSeconds(const std::string& text,
                              const std::string& what) {
  errno = 0;
  char* stop = nullptr;
  double value = std::strtod(text.c_str(), &stop);
  if (text.empty() || *stop != '\0' || errno != 0 || !std::isfinite(value) ||
      value <= 0) {
    return Status::InvalidArgument(what + ": '" + text +
                                   "' is not a positive number of seconds");
  }
  return value;
}

}  // namespace wsgid::ctl
