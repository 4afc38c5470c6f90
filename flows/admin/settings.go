package admin

import (
	"net/http"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// settingsView is what the API shows and changes of an institution's
// settings. two_factor is the service team's switch (the command line's
// usher institution update): shown, not changed here.
type settingsView struct {
	TwoFactor                 bool         `json:"two_factor"`
	ManualPassword            bool         `json:"manual_password"`
	TemporaryPasswordLifetime int          `json:"temporary_password_lifetime_minutes"`
	ResetLinkLifetime         int          `json:"reset_link_lifetime_minutes"`
	PasswordPolicy            policyView   `json:"password_policy"`
	InvitationEmail           string       `json:"invitation_email"` // account_invitation or password_reset
	Branding                  brandingView `json:"branding"`
}

type policyView struct {
	MinLength      int  `json:"min_length"`
	RequireUpper   bool `json:"require_upper"`
	RequireDigit   bool `json:"require_digit"`
	RequireSpecial bool `json:"require_special"`
	RefuseCommon   bool `json:"refuse_common"`
}

// viewSettings is the settings of inst as the API shows them.
func (h settingsRoutes) viewSettings(inst *storage.Institution) settingsView {
	s := inst.Settings
	p := s.Password
	invitation := s.InvitationEmail
	if invitation == "" {
		invitation = string(templates.ClassAccountInvitation)
	}
	return settingsView{TwoFactor: s.TwoFactor, ManualPassword: s.ManualPassword, InvitationEmail: invitation,
		TemporaryPasswordLifetime: int(s.TemporaryPasswordTTL.Std() / time.Minute),
		ResetLinkLifetime:         int(s.ResetLinkTTL.Std() / time.Minute),
		PasswordPolicy: policyView{MinLength: p.MinLength, RequireUpper: p.RequireUpper, RequireDigit: p.RequireDigit,
			RequireSpecial: p.RequireSpecial, RefuseCommon: p.RefuseCommon},
		Branding: viewBranding(inst, h.api.publicURL)}
}

// settingsRoutes are the operations on the institution's settings: settings
// and settings/….
type settingsRoutes struct{ api *API }

// getSettings: GET settings.
func (h settingsRoutes) getSettings(w http.ResponseWriter, r *http.Request, c *call) {
	if !h.api.recordRead(w, r, c, "", "settings_viewed", nil) {
		return
	}
	writeJSON(w, r, http.StatusOK, h.viewSettings(c.inst))
}

// settingFields are the API's names of the settings' fields of
// flows.InstitutionChanges problems. The problems of an uploaded image are
// the body's ("").
var settingFields = map[string]string{
	"temporary_password_ttl": "temporary_password_lifetime_minutes",
	"reset_link_ttl":         "reset_link_lifetime_minutes",
	"password.min_length":    "password_policy.min_length",
	"display_name":           "branding.display_name",
	"logo_url":               "branding.logo_url",
	"accent_colour":          "branding.accent_color",
	"support_url":            "branding.support_url",
	"footer_text":            "branding.footer_text",
	storage.AssetLogo:        "",
	storage.AssetFavicon:     "",
}

// patchSettings: PATCH settings with the members to change (manual entry,
// the lifetimes in minutes, the password policy, the class of invitations,
// the branding); the others stay. Every value is checked by
// flows.InstitutionChanges, as the command line's are: one refused value
// refuses the whole change. 200 with the settings after the change.
func (h settingsRoutes) patchSettings(w http.ResponseWriter, r *http.Request, c *call) {
	var ch flows.InstitutionChanges
	var temporary, reset *int
	if !h.api.decode(w, r, c, members{"manual_password": &ch.ManualPassword, "invitation_email": &ch.InvitationEmail,
		"temporary_password_lifetime_minutes": &temporary, "reset_link_lifetime_minutes": &reset,
		"password_policy": members{"min_length": &ch.PasswordMinLength, "require_upper": &ch.PasswordUpper,
			"require_digit": &ch.PasswordDigit, "require_special": &ch.PasswordSpecial, "refuse_common": &ch.PasswordRefuseCommon},
		"branding": brandingMembers(&ch)}) {
		return
	}
	ch.TemporaryPasswordTTL, ch.ResetLinkTTL = minutes(temporary), minutes(reset)
	h.changeSettings(w, r, c, ch)
}

// minutes is a number of minutes as a duration (nil stays nil), bounded so
// that no number overflows: what is out of bounds is refused by the
// settings' own checks.
func minutes(n *int) *time.Duration {
	if n == nil {
		return nil
	}
	d := time.Duration(max(min(*n, 1e8), -1e8)) * time.Minute
	return &d
}
