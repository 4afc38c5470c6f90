package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/usher-idp/usher/flows"
)

// maxBodyBytes bounds the body of a request to the API.
const maxBodyBytes = 16 << 10

// members describes the JSON object a request sends: each member's name
// and the pointer it is decoded into, or, for a nested object, its own
// members (or an object, to know whether it was given). A member that is
// absent or null leaves its pointer alone.
type members map[string]any

// object is a nested object whose presence matters: given is set when the
// member is there and not null.
type object struct {
	given   *bool
	members members
}

// decode reads the body of r as a JSON object of these members and
// answers every problem of it itself (415 for a body that is not JSON, 400
// for the rest), returning false. An empty body is the empty object.
func (a *API) decode(w http.ResponseWriter, r *http.Request, c *call, into members) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		a.invalid(w, r, c, []flows.Problem{{ID: "admin.body_too_large", Args: map[string]string{"max": strconv.Itoa(maxBodyBytes)}}})
		return false
	case err != nil:
		a.invalid(w, r, c, []flows.Problem{{ID: "admin.json_invalid"}})
		return false
	case len(bytes.TrimSpace(data)) == 0:
		return true
	case !jsonMediaType(r.Header.Get("Content-Type")):
		a.problem(w, r, c, problem{status: http.StatusUnsupportedMediaType, detail: "admin.unsupported_media_type"})
		return false
	}
	if problems := decodeObject(data, into); len(problems) > 0 {
		a.invalid(w, r, c, problems)
		return false
	}
	return true
}

// jsonMediaType reports whether a Content-Type is JSON: application/json
// or a +json type (application/merge-patch+json).
func jsonMediaType(contentType string) bool {
	t, _, err := mime.ParseMediaType(contentType)
	return err == nil && (t == "application/json" || (strings.HasPrefix(t, "application/") && strings.HasSuffix(t, "+json")))
}

// decodeObject decodes one JSON object of these members, with every
// problem: not JSON, not an object, unknown members, members of the wrong
// type or with a NUL character.
func decodeObject(data []byte, into members) []flows.Problem {
	dec := json.NewDecoder(bytes.NewReader(data))
	var obj map[string]json.RawMessage
	err := dec.Decode(&obj)
	var wrongType *json.UnmarshalTypeError
	switch {
	case errors.As(err, &wrongType) || (err == nil && obj == nil):
		return []flows.Problem{{ID: "admin.body_not_object"}}
	case err != nil:
		return []flows.Problem{{ID: "admin.json_invalid"}}
	case dec.Decode(new(json.RawMessage)) != io.EOF:
		return []flows.Problem{{ID: "admin.json_invalid"}} // more than one value
	}
	return decodeMembers("", obj, into)
}

// decodeMembers decodes the members of obj, in the order of their names.
func decodeMembers(prefix string, obj map[string]json.RawMessage, into members) []flows.Problem {
	var problems []flows.Problem
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		field, raw := prefix+name, obj[name]
		switch dest := into[name].(type) {
		case nil:
			problems = append(problems, flows.Problem{Field: field, ID: "admin.field_unknown"})
		case members:
			problems = append(problems, decodeNested(field, raw, dest)...)
		case object:
			*dest.given = string(bytes.TrimSpace(raw)) != "null"
			problems = append(problems, decodeNested(field, raw, dest.members)...)
		default:
			if err := json.Unmarshal(raw, dest); err != nil {
				problems = append(problems, typeProblem(field, jsonType(dest)))
			} else if hasNUL(dest) {
				problems = append(problems, flows.Problem{Field: field, ID: "admin.text_invalid"})
			}
		}
	}
	return problems
}

// decodeNested decodes the nested object of a member.
func decodeNested(field string, raw json.RawMessage, into members) []flows.Problem {
	var nested map[string]json.RawMessage
	if err := json.Unmarshal(raw, &nested); err != nil {
		return []flows.Problem{typeProblem(field, "object")}
	}
	return decodeMembers(field+".", nested, into)
}

func typeProblem(field, typ string) flows.Problem {
	return flows.Problem{Field: field, ID: "admin.field_type", Args: map[string]string{"type": typ}}
}

// jsonType names the JSON type a destination takes.
func jsonType(dest any) string {
	t := reflect.TypeOf(dest)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	}
	return "value"
}

// hasNUL reports whether a decoded string holds a NUL character, which no
// record may hold.
func hasNUL(dest any) bool {
	switch v := dest.(type) {
	case *string:
		return strings.ContainsRune(*v, 0)
	case **string:
		return *v != nil && strings.ContainsRune(**v, 0)
	}
	return false
}

// required adds a problem for each required member that is absent.
func required(present map[string]bool) []flows.Problem {
	var problems []flows.Problem
	for _, name := range slices.Sorted(maps.Keys(present)) {
		if !present[name] {
			problems = append(problems, flows.Problem{Field: name, ID: "admin.field_required"})
		}
	}
	return problems
}
