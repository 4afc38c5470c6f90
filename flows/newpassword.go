package flows

import (
	"strconv"
	"strings"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// newPasswordProblems lists everything wrong with a new password typed
// twice, at once: every rule of the policy it fails (for the account with
// this email) and a confirmation that is missing or differs.
func newPasswordProblems(c *password.Checker, p storage.PasswordPolicy, email, pw, confirm string) []templates.Problem {
	var problems []templates.Problem
	if pw == "" {
		problems = append(problems, templates.Problem{Field: "password", ID: "signin.password_required"})
	} else {
		local, _, _ := strings.Cut(email, "@")
		args := map[string]string{"min_length": strconv.Itoa(password.MinLength(p))}
		for _, id := range c.Check(p, pw, email, local) {
			problems = append(problems, templates.Problem{Field: "password", ID: id, Args: args})
		}
	}
	switch {
	case confirm == "":
		problems = append(problems, templates.Problem{Field: "password_confirm", ID: "password_change.confirm_required"})
	case confirm != pw:
		problems = append(problems, templates.Problem{Field: "password_confirm", ID: "password_change.mismatch"})
	}
	return problems
}

// policyRules explains a password policy, one rule per item.
func policyRules(p storage.PasswordPolicy) []templates.Text {
	rules := []templates.Text{{ID: password.TooShort,
		Args: map[string]string{"min_length": strconv.Itoa(password.MinLength(p))}}}
	for _, rule := range []struct {
		on bool
		id string
	}{
		{p.RequireUpper, password.NeedsUpper},
		{p.RequireDigit, password.NeedsDigit},
		{p.RequireSpecial, password.NeedsSpecial},
		{p.RefuseCommon, "password_change.rule_common"},
		{true, password.SameAsIdentity},
	} {
		if rule.on {
			rules = append(rules, templates.Text{ID: rule.id})
		}
	}
	return rules
}
