// Package switchboard holds what every part of the Switchboard PBX shares: the error vocabulary
// that crosses package boundaries. Domain types live in the packages that own them
// (provisioning for users, ari for calls); adapters (postgres, api, ari's native client) live in
// their own packages and translate their errors into this vocabulary in exactly one place.
package switchboard

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status at the API boundary.
const (
	EINVALID      = "invalid"      // the request is malformed or breaks a rule (400)
	ENOTFOUND     = "not_found"    // the thing does not exist (404)
	ECONFLICT     = "conflict"     // it already exists or is in use (409)
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials (401)
	EUNAVAILABLE  = "unavailable"  // PostgreSQL or Asterisk is unreachable (503)
	EINTERNAL     = "internal"     // a bug or an unexpected failure (500)
)

// Error is an error a user may see: a code from the list above and a message written for them.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's chain, or a
// generic message for internal errors, whose details are logged and never shown.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
