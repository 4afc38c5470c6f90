package flows_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// deviceCookie is the device cookie a response set, or nil.
func deviceCookie(r response) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == flows.DeviceCookieName {
			return c
		}
	}
	return nil
}

// withCookie is a new browser that holds only this device cookie (value).
func (e *webEnv) withCookie(t *testing.T, value string) *browser {
	t.Helper()
	b := e.browser(t)
	u, _ := url.Parse(e.srv.URL + "/institutions/opera/")
	b.jar.SetCookies(u, []*http.Cookie{{Name: flows.DeviceCookieName, Value: value, Path: "/institutions/opera/"}})
	return b
}

// earlier is a unix time string one second earlier.
func earlier(unix string) string {
	n, _ := strconv.ParseInt(unix, 10, 64)
	return strconv.FormatInt(n-1, 10)
}

// A browser that signed in to an account before (its device cookie) still
// signs in with the right password while an attacker keeps the account
// locked; a browser without the cookie, or with a forged or altered one,
// or one of another account, is refused as locked. A stolen cookie gets
// DeviceAttempts attempts, then it is ignored.
func TestDeviceCookieExemptsFromLock(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.setSettings(t, e.opera, func(s *storage.Settings) { s.Lockout.FreeFailures, s.Lockout.LockAfter = 3, 3 })
		ann := e.customer(t, e.opera, "ann@example.org")
		e.customer(t, e.opera, "bob@example.org")

		owner := e.browser(t)
		first := owner.signIn("opera", "ann@example.org", goodPassword, "")
		c := deviceCookie(first)
		if e.outcome(first) != "303 signed in" || c == nil {
			t.Fatalf("sign-in: %s, device cookie %v", e.outcome(first), c)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/institutions/opera/" ||
			c.MaxAge < 179*24*3600 || strings.Contains(c.Value, "ann") {
			t.Errorf("device cookie %+v", c)
		}
		bob := deviceCookie(e.browser(t).signIn("opera", "bob@example.org", goodPassword, ""))

		attacker := e.browser(t)
		for range 3 {
			attacker.signIn("opera", "ann@example.org", "wrong guess", "")
		}
		if got := e.outcome(e.browser(t).signIn("opera", "ann@example.org", goodPassword, "")); got != "429 locked 15min" {
			t.Fatalf("a browser without a device cookie: %s, want locked", got)
		}
		if got := e.outcome(owner.signIn("opera", "ann@example.org", goodPassword, "")); got != "303 signed in" {
			t.Errorf("the owner's browser with its device cookie: %s, want signed in", got)
		}
		// The owner's sign-in does not free the attacker.
		if got := e.outcome(attacker.signIn("opera", "ann@example.org", goodPassword, "")); got != "429 locked 15min" {
			t.Errorf("after the owner signed in, another browser: %s, want still locked", got)
		}
		if a, _ := e.store.In(e.opera.ID).GetAccount(e.ctx, ann.ID); a.LockedUntil == nil {
			t.Error("the owner's sign-in cleared the account's lock")
		}

		i := strings.LastIndexByte(c.Value, '.')
		payload, mac := c.Value[:i], c.Value[i+1:]
		flip := func(s string) string {
			if s[len(s)-1] == 'A' {
				return s[:len(s)-1] + "B"
			}
			return s[:len(s)-1] + "A"
		}
		parts := strings.Split(payload, ".")
		forged := map[string]string{
			"altered mac":     payload + "." + flip(mac),
			"altered issued":  strings.Join([]string{parts[0], parts[1], earlier(parts[2]), parts[3]}, ".") + "." + mac,
			"altered nonce":   strings.Join([]string{parts[0], parts[1], parts[2], flip(parts[3])}, ".") + "." + mac,
			"no mac":          payload,
			"another account": bob.Value,
			"garbage":         "v1....",
		}
		for name, value := range forged {
			if got := e.outcome(e.withCookie(t, value).signIn("opera", "ann@example.org", goodPassword, "")); got != "429 locked 15min" {
				t.Errorf("%s: %s, want locked", name, got)
			}
		}

		// A stolen copy: DeviceAttempts wrong passwords, then ignored.
		thief := e.withCookie(t, c.Value)
		for n := range flows.DeviceAttempts {
			if got := e.outcome(thief.signIn("opera", "ann@example.org", "wrong guess", "")); got != "400 failed" {
				t.Errorf("stolen cookie, attempt %d: %s", n+1, got)
			}
		}
		if got := e.outcome(thief.signIn("opera", "ann@example.org", goodPassword, "")); got != "429 locked 15min" {
			t.Errorf("stolen cookie past its attempts: %s, want locked", got)
		}
	})
}

// A device cookie lasts 180 days: an older one gives no exemption.
func TestDeviceCookieExpires(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.setSettings(t, e.opera, func(s *storage.Settings) {
			s.Lockout.FreeFailures, s.Lockout.LockAfter, s.Lockout.LockDuration = 3, 3, storage.Duration(365*24*time.Hour)
		})
		e.customer(t, e.opera, "ann@example.org")
		owner := e.browser(t)
		owner.signIn("opera", "ann@example.org", goodPassword, "")
		e.clock.Advance(181 * 24 * time.Hour)
		for range 3 {
			e.browser(t).signIn("opera", "ann@example.org", "wrong guess", "")
		}
		if got := owner.signIn("opera", "ann@example.org", goodPassword, ""); got.status != http.StatusTooManyRequests {
			t.Errorf("a device cookie 181 days old: %d, want the lock", got.status)
		}
	})
}
