package flows

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// Device cookies (OWASP's "device cookies" against lockout attacks): a
// browser that has signed in to an account gets a signed cookie binding
// it to that account's email. Later sign-in attempts for that email that
// present the cookie are exempt from the email's lock and delays, so an
// attacker who locks someone else's email does not lock its owner out of
// the browsers the owner already uses. Instead they are throttled on the
// cookie's own key: DeviceAttempts attempts without a right password, after
// which the cookie is ignored (the attempt goes through the email's guard
// like any other), so a stolen cookie cannot brute force the password.
//
// The cookie (DeviceCookieName) is "v1.{email id}.{issued unix}.{nonce}.{mac}":
// the email id is the throttle identity of the email (emailID, an HMAC that
// does not show the email), the nonce 128 random bits naming the cookie's
// throttle key, the mac an HMAC-SHA256 under SignIn.DeviceKey (derived from
// the master secret) of the institution's ID and the rest. Its Path is the
// institution's, it is HttpOnly, SameSite=Lax, Secure when PublicURL is
// https, and lasts deviceLifetime. A browser holds one per institution: the
// last account it signed in to.
const (
	DeviceCookieName = "usher_device"
	deviceLifetime   = 180 * 24 * time.Hour
	// DeviceAttempts is how many attempts a device cookie exempts from the
	// email's guard until a right password resets its count.
	DeviceAttempts = 5
	deviceVersion  = "v1"
)

// deviceMAC is the signature of a device cookie's payload at inst.
func deviceMAC(key []byte, inst *storage.Institution, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(inst.ID + "\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// rememberDevice gives the browser a device cookie for the account, which
// has just signed in. Without a DeviceKey it does nothing.
func (h *SignIn) rememberDevice(w http.ResponseWriter, inst *storage.Institution, acct *storage.Account) {
	if len(h.DeviceKey) == 0 {
		return
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return // no cookie: the browser is treated as a new one
	}
	payload := strings.Join([]string{deviceVersion, emailID(h.Site.ThrottleKey, inst, acct.Kind, acct.Email),
		strconv.FormatInt(h.Site.now().Unix(), 10), base64.RawURLEncoding.EncodeToString(nonce)}, ".")
	http.SetCookie(w, &http.Cookie{Name: DeviceCookieName, Value: payload + "." + deviceMAC(h.DeviceKey, inst, payload),
		Path: issuer.Path(inst.Slug) + "/", MaxAge: int(deviceLifetime / time.Second), HttpOnly: true,
		Secure: secureCookies(h.Site.PublicURL), SameSite: http.SameSiteLaxMode})
}

// deviceThrottleKey is the throttle key of the device cookie r presents
// for the attempt's email, or "" when it presents none that is valid: one
// signed with DeviceKey for this institution, for this email and kind,
// issued within deviceLifetime and not in the future.
func (h *SignIn) deviceThrottleKey(r *http.Request, a attempt) string {
	if len(h.DeviceKey) == 0 {
		return ""
	}
	for _, c := range r.CookiesNamed(DeviceCookieName) {
		if key := h.checkDevice(c.Value, a); key != "" {
			return key
		}
	}
	return ""
}

// checkDevice returns the throttle key of a device cookie's value when it
// is valid for the attempt, else "".
func (h *SignIn) checkDevice(value string, a attempt) string {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return ""
	}
	payload, mac := value[:i], value[i+1:]
	if !hmac.Equal([]byte(mac), []byte(deviceMAC(h.DeviceKey, a.inst, payload))) {
		return ""
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 4 || parts[0] != deviceVersion || parts[1] != emailID(h.Site.ThrottleKey, a.inst, a.kind, a.email) {
		return ""
	}
	unix, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return ""
	}
	issued, now := time.Unix(unix, 0), h.Site.now()
	if issued.After(now.Add(time.Minute)) || !now.Before(issued.Add(deviceLifetime)) {
		return ""
	}
	return "signin:device:" + parts[3]
}
