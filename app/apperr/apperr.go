// Package apperr defines errors that carry an HTTP status and a message that
// is safe to show to the person who caused them; the real cause is logged,
// never shown.
package apperr

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is a typed application error.
type Error struct {
	Status int    // HTTP status
	Msg    string // safe, plain-language message for the user
	Err    error  // underlying cause, logged only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Msg, e.Err)
	}
	return e.Msg
}

// Unwrap exposes the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with status and a safe message.
func New(status int, msg string) *Error { return &Error{Status: status, Msg: msg} }

// Wrap returns an error with status, a safe message and a logged cause.
func Wrap(status int, msg string, err error) *Error {
	return &Error{Status: status, Msg: msg, Err: err}
}

// NotFound is a 404 with msg.
func NotFound(msg string) *Error { return New(404, msg) }

// Forbidden is a 403 with msg.
func Forbidden(msg string) *Error { return New(403, msg) }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// FieldErrors maps form fields to plain-language messages about what to fix.
// Services return it for bad input; handlers re-render the form with each
// message beside its field and a 422.
type FieldErrors map[string]string

// Error lists the messages in field order, for logs.
func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+f[k])
	}
	return strings.Join(parts, "; ")
}
