package admin

import (
	"slices"
	"testing"

	"github.com/usher-idp/usher/flows"
)

// Bad JSON of every kind is refused with every problem at once; nothing
// else is decoded.
func TestDecodeObjectProblems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // field:message id
	}{
		{"syntax", `{"email": `, []string{":admin.json_invalid"}},
		{"two values", `{} {}`, []string{":admin.json_invalid"}},
		{"trailing text", `{}x`, []string{":admin.json_invalid"}},
		{"an array", `[{"email": "a@b.c"}]`, []string{":admin.body_not_object"}},
		{"a string", `"a@b.c"`, []string{":admin.body_not_object"}},
		{"null", `null`, []string{":admin.body_not_object"}},
		{"unknown members", `{"emial": "a", "admin": true}`, []string{"admin:admin.field_unknown", "emial:admin.field_unknown"}},
		{"wrong types", `{"email": 1, "temporary": "yes", "count": 1.5}`,
			[]string{"count:admin.field_type", "email:admin.field_type", "temporary:admin.field_type"}},
		{"NUL in a string", `{"email": "a\u0000b"}`, []string{"email:admin.text_invalid"}},
		{"nested", `{"policy": {"min_length": "8", "colour": 1}}`,
			[]string{"policy.colour:admin.field_unknown", "policy.min_length:admin.field_type"}},
		{"nested not an object", `{"policy": 3}`, []string{"policy:admin.field_type"}},
		{"fine", `{"email": "a@b.c", "temporary": true, "count": 3, "policy": {"min_length": 9}}`, nil},
		{"null members", `{"email": null, "policy": null}`, nil},
	}
	for _, tt := range tests {
		var email *string
		var temporary bool
		var count, minLength *int
		into := members{"email": &email, "temporary": &temporary, "count": &count,
			"policy": members{"min_length": &minLength}}
		var got []string
		for _, p := range decodeObject([]byte(tt.body), into) {
			got = append(got, p.Field+":"+p.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: problems %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDecodeTypesNamed(t *testing.T) {
	var s *string
	var b bool
	var n *int
	for dest, want := range map[any]string{&s: "string", &b: "boolean", &n: "integer"} {
		if got := jsonType(dest); got != want {
			t.Errorf("jsonType(%T) = %s, want %s", dest, got, want)
		}
	}
	p := []flows.Problem{typeProblem("x", "string")}
	if p[0].Args["type"] != "string" {
		t.Errorf("type problem args: %v", p[0].Args)
	}
}

func TestJSONMediaTypes(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "Application/JSON": true,
		"application/merge-patch+json": true, "text/plain": false, "": false, "application/x-www-form-urlencoded": false,
		"application/json;;": false,
	} {
		if got := jsonMediaType(ct); got != want {
			t.Errorf("jsonMediaType(%q) = %v", ct, got)
		}
	}
}

// A nested object whose presence matters is given when it is there, even
// empty, and not when it is absent or null; its members are checked as
// any nested object's.
func TestDecodeObjectGiven(t *testing.T) {
	tests := []struct {
		body  string
		given bool
		want  []string
	}{
		{`{}`, false, nil},
		{`{"invite": null}`, false, nil},
		{`{"invite": {}}`, true, nil},
		{`{"invite": {"document": "d"}}`, true, nil},
		{`{"invite": {"document": 1, "x": 2}}`, true, []string{"invite.document:admin.field_type", "invite.x:admin.field_unknown"}},
		{`{"invite": "yes"}`, true, []string{"invite:admin.field_type"}},
	}
	for _, tt := range tests {
		var given bool
		var document string
		var got []string
		for _, p := range decodeObject([]byte(tt.body), members{"invite": object{&given, members{"document": &document}}}) {
			got = append(got, p.Field+":"+p.ID)
		}
		if given != tt.given || !slices.Equal(got, tt.want) {
			t.Errorf("%s: given %v, problems %v; want %v, %v", tt.body, given, got, tt.given, tt.want)
		}
	}
}
