package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionCodec encodes session data as JSON. scs's default, gob, compiles
// its type description afresh for every session it decodes, which was a
// twentieth of a page's CPU; sessions hold only strings and whole numbers,
// which JSON carries with a type mark each. Sessions saved by the gob codec
// still decode, so nobody is signed out by the switch.
type SessionCodec struct{}

type sessionJSON struct {
	Deadline time.Time               `json:"d"`
	Values   map[string]sessionValue `json:"v"`
}

// sessionValue holds one value: S for a string, I for an int64.
type sessionValue struct {
	S *string `json:"s,omitempty"`
	I *int64  `json:"i,omitempty"`
}

// Encode implements scs.Codec. A value of another type is an error, so a
// new kind of session value is noticed in tests rather than lost.
func (SessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	out := sessionJSON{Deadline: deadline, Values: make(map[string]sessionValue, len(values))}
	for k, v := range values {
		switch v := v.(type) {
		case string:
			out.Values[k] = sessionValue{S: &v}
		case int64:
			out.Values[k] = sessionValue{I: &v}
		default:
			return nil, fmt.Errorf("session value %q is a %T; sessions hold strings and int64s", k, v)
		}
	}
	return json.Marshal(out)
}

// Decode implements scs.Codec.
func (SessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if !bytes.HasPrefix(b, []byte(`{`)) {
		return scs.GobCodec{}.Decode(b)
	}
	var in sessionJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return time.Time{}, nil, err
	}
	values := make(map[string]any, len(in.Values))
	for k, v := range in.Values {
		switch {
		case v.S != nil:
			values[k] = *v.S
		case v.I != nil:
			values[k] = *v.I
		}
	}
	return in.Deadline, values, nil
}
