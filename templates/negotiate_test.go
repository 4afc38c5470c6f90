package templates

import "testing"

func TestNegotiate(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		acceptLanguage string
		hints          []string
		want           string
	}{
		{"nothing", "", nil, "en"},
		{"header only", "de-CH,de;q=0.9,en;q=0.8", nil, "de"},
		{"q-values order", "en;q=0.5, it;q=0.9, fr;q=0.7", nil, "it"},
		{"ties keep their order", "fr;q=0.8, de;q=0.8", nil, "fr"},
		{"unsupported skipped", "ja, pt-BR;q=0.9, it;q=0.1", nil, "it"},
		{"q=0 refuses", "fr;q=0, de;q=0.1", nil, "de"},
		{"only unsupported", "ja, zh-Hant", nil, "en"},
		{"wildcard ignored", "*, fr;q=0.5", nil, "fr"},
		{"malformed entries skipped", "fr;q=abc, ;q=1, de;x=1, it;q=2, en-GB;q=0.3", nil, "en"},
		{"case and spaces", "  FR-ch ; Q=0.9 ", nil, "fr"},
		{"ui_locales first", "de", []string{"fr-CA it"}, "fr"},
		{"ui_locales list, first supported", "de", []string{"ja it"}, "it"},
		{"account locale after ui_locales", "de", []string{"", "it-CH"}, "it"},
		{"unsupported hints fall to header", "de;q=0.2", []string{"ja", "pt"}, "de"},
		{"hints beat header", "fr", []string{"", "de"}, "de"},
	}
	for _, tt := range tests {
		if got := c.Negotiate(tt.acceptLanguage, tt.hints...); got != tt.want {
			t.Errorf("%s: Negotiate(%q, %q) = %q, want %q", tt.name, tt.acceptLanguage, tt.hints, got, tt.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	c, err := NewCatalog()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("fr-CH, fr;q=0.9, en;q=0.8", "it")
	f.Fuzz(func(t *testing.T, header, hint string) {
		got := c.Negotiate(header, hint)
		if c.Match(got) != got || got == "" {
			t.Fatalf("Negotiate(%q, %q) = %q, not a supported locale", header, hint, got)
		}
	})
}
