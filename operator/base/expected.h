// A value or an error: expected failures as values, one type for every layer.
//
// kube/ spells it kube::Result<T> (E = kube::Error, the API server's Status);
// electric/ uses it with its own error types (mostly a std::string reason).
// Exceptions stay for programmer errors and start-up misconfiguration.
//
//   base::Expected<DatabaseURL, std::string> url = parse_database_url(s);
//   if (!url) return url.error();
//
// [[nodiscard]]: a failure that nobody looks at is a bug, so ignoring a
// returned Expected warns; where ignoring is intended, say so with (void).
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>
#include <variant>

namespace base {

template <class T, class E>
class [[nodiscard]] Expected {
 public:
  // Always available, and the only way to make a failure when T and E are
  // the same type (Expected<std::string, std::string>).
  static constexpr Expected failure(E error) {
    return Expected(std::in_place_index<1>, std::move(error));
  }

  constexpr Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design

  // Implicit from E only when that cannot be mistaken for the value: when T
  // and E are one type, a bare E is the value and failure() the error.
  // (U defaults to E and is never deduced; it only delays the check to
  // overload resolution so that it can remove this constructor.)
  template <class U = E, std::enable_if_t<!std::is_same_v<T, U>, int> = 0>
  constexpr Expected(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  constexpr bool ok() const { return v_.index() == 0; }
  constexpr explicit operator bool() const { return ok(); }

  // value(), operator* and operator-> require ok(); error() requires !ok()
  // (std::bad_variant_access otherwise: a programmer error).
  constexpr const T& value() const& { return std::get<0>(v_); }
  constexpr T& value() & { return std::get<0>(v_); }
  constexpr T&& value() && { return std::get<0>(std::move(v_)); }
  constexpr const T* operator->() const { return &std::get<0>(v_); }
  constexpr const T& operator*() const { return std::get<0>(v_); }
  constexpr const E& error() const { return std::get<1>(v_); }

 private:
  template <std::size_t I, class V>
  constexpr Expected(std::in_place_index_t<I> tag, V&& v) : v_(tag, std::forward<V>(v)) {}

  // By index, not type, so T == E works.
  std::variant<T, E> v_;
};

}  // namespace base
