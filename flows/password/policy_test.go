package password

import (
	"slices"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
)

func TestNewCheckerLoadsList(t *testing.T) {
	c := NewChecker()
	if n := len(c.common); n != 10000 {
		t.Errorf("%d common passwords, want 10000", n)
	}
	for _, p := range []string{"123456", "password", "P@ssw0rd", "  LetMeIn ", "24081990"} {
		if !c.IsCommon(p) {
			t.Errorf("IsCommon(%q) = false, want true", p)
		}
	}
	for _, p := range []string{"", "correct horse battery staple", "Tr0ub4dor&3x"} {
		if c.IsCommon(p) {
			t.Errorf("IsCommon(%q) = true, want false", p)
		}
	}
}

func TestMinLength(t *testing.T) {
	for _, tt := range []struct{ policy, want int }{{0, 8}, {4, 8}, {8, 8}, {12, 12}} {
		if got := MinLength(storage.PasswordPolicy{MinLength: tt.policy}); got != tt.want {
			t.Errorf("MinLength(%d) = %d, want %d", tt.policy, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	strict := storage.PasswordPolicy{MinLength: 10, RequireUpper: true, RequireDigit: true, RequireSpecial: true, RefuseCommon: true}
	lax := storage.PasswordPolicy{}
	only := func(change func(*storage.PasswordPolicy)) storage.PasswordPolicy {
		p := storage.PasswordPolicy{MinLength: 8}
		change(&p)
		return p
	}
	tests := []struct {
		name     string
		policy   storage.PasswordPolicy
		password string
		related  []string
		want     []string
	}{
		{"strict, all met", strict, "Tr0ub4dor&3x", nil, nil},
		{"lax, all met", lax, "abcdefgh", nil, nil},
		{"default settings, all met", storage.DefaultSettings().Password, "correct horse battery", []string{"bob@example.com", "bob"}, nil},

		{"too short", storage.PasswordPolicy{MinLength: 10}, "abcdefghi", nil, []string{TooShort}},
		{"exactly the minimum", storage.PasswordPolicy{MinLength: 10}, "abcdefghij", nil, nil},
		{"minimum below 8 raised to 8", storage.PasswordPolicy{MinLength: 4}, "abcdefg", nil, []string{TooShort}},
		{"zero minimum raised to 8", lax, "", nil, []string{TooShort}},
		{"code points, not bytes: 5 runes in 10 bytes", lax, "ééééé", nil, []string{TooShort}},
		{"code points: 8 runes", lax, "ééééé☃☃☃", nil, nil},
		{"emoji count as one", lax, "🔑🔑🔑🔑🔑🔑🔑", nil, []string{TooShort}},

		{"too long", lax, strings.Repeat("a", MaxBytes+1), nil, []string{TooLong}},
		{"longest accepted", lax, strings.Repeat("a", MaxBytes), nil, nil},
		{"too long in bytes, not in runes", lax, strings.Repeat("é", MaxBytes/2+1), nil, []string{TooLong}},

		{"needs upper", only(func(p *storage.PasswordPolicy) { p.RequireUpper = true }), "lowercase only", nil, []string{NeedsUpper}},
		{"upper met", only(func(p *storage.PasswordPolicy) { p.RequireUpper = true }), "lowercase Only", nil, nil},
		{"non-ASCII upper", only(func(p *storage.PasswordPolicy) { p.RequireUpper = true }), "élan Énorme", nil, nil},

		{"needs digit", only(func(p *storage.PasswordPolicy) { p.RequireDigit = true }), "no digits here", nil, []string{NeedsDigit}},
		{"digit met", only(func(p *storage.PasswordPolicy) { p.RequireDigit = true }), "one digit: 7", nil, nil},
		{"non-ASCII digit", only(func(p *storage.PasswordPolicy) { p.RequireDigit = true }), "arabic-indic ٣", nil, nil},

		{"needs special", only(func(p *storage.PasswordPolicy) { p.RequireSpecial = true }), "Letters and 123", nil, []string{NeedsSpecial}},
		{"punctuation is special", only(func(p *storage.PasswordPolicy) { p.RequireSpecial = true }), "Letters.and123", nil, nil},
		{"symbol is special", only(func(p *storage.PasswordPolicy) { p.RequireSpecial = true }), "Letters€and123", nil, nil},

		{"too common", only(func(p *storage.PasswordPolicy) { p.RefuseCommon = true }), "iloveyou", nil, []string{TooCommon}},
		{"too common in other case", only(func(p *storage.PasswordPolicy) { p.RefuseCommon = true }), "QwertyUIOP", nil, []string{TooCommon}},
		{"common allowed when not refused", lax, "iloveyou", nil, nil},

		{"same as email", lax, "Alice@Example.com", []string{"alice@example.com", "alice"}, []string{SameAsIdentity}},
		{"same as local part", lax, "ALICE.SMITH", []string{"alice.smith@example.com", "alice.smith"}, []string{SameAsIdentity}},
		{"containing the identity is allowed", lax, "alice.smith!2024", []string{"alice.smith@example.com", "alice.smith"}, nil},
		{"empty related ignored", lax, "abcdefgh", []string{"", " "}, nil},

		{"variation of a common password", strict, "P@ssw0rd12", nil, nil},
		{"common, short, and more", strict, "p@ssw0rd", []string{"P@SSW0RD"}, []string{TooShort, NeedsUpper, TooCommon, SameAsIdentity}},
		{"every character rule at once", strict, "abc", nil, []string{TooShort, NeedsUpper, NeedsDigit, NeedsSpecial}},
		{"six rules at once", storage.PasswordPolicy{MinLength: 2000, RequireUpper: true, RequireDigit: true, RequireSpecial: true, RefuseCommon: true},
			strings.Repeat("a", MaxBytes+1), []string{strings.Repeat("A", MaxBytes+1)},
			[]string{TooShort, TooLong, NeedsUpper, NeedsDigit, NeedsSpecial, SameAsIdentity}},
		{"common and same as identity", strict, "Password", []string{"password"}, []string{TooShort, NeedsDigit, NeedsSpecial, TooCommon, SameAsIdentity}},
	}
	c := NewChecker()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Check(tt.policy, tt.password, tt.related...)
			if got == nil {
				t.Fatal("Check returned nil, want a non-nil slice")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check(%+v, %.20q) = %q, want %q", tt.policy, tt.password, got, tt.want)
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	c := NewChecker()
	policy := storage.PasswordPolicy{MinLength: 10, RequireUpper: true, RequireDigit: true, RequireSpecial: true, RefuseCommon: true}
	b.ReportAllocs()
	for b.Loop() {
		if got := c.Check(policy, "Correct horse battery staple 42!", "alice@example.com", "alice"); len(got) != 0 {
			b.Fatal(got)
		}
	}
}
