// A value or an error, for the domain layer's expected failures.
//
// electric/ may not include kube/result.h (it links no client), so it has
// its own small sum type with the same spirit: failures are values.
//
//   electric::Expected<DatabaseURL, std::string> url = parse_database_url(s);
//   if (!url) return url.error();
#pragma once

#include <utility>
#include <variant>

namespace electric {

template <class T, class E>
class Expected {
 public:
  static Expected failure(E error) { return Expected(std::in_place_index<1>, std::move(error)); }
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T* operator->() const { return &std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  const E& error() const { return std::get<1>(v_); }

 private:
  template <std::size_t I, class V>
  Expected(std::in_place_index_t<I> tag, V&& v) : v_(tag, std::forward<V>(v)) {}
  std::variant<T, E> v_;
};

}  // namespace electric
