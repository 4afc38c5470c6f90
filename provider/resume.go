package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/usher-idp/usher/internal/issuer"
)

// The authorization request is resumed by URL after the sign-in and consent
// pages. paramResume carries the time the request first arrived, so that
// prompt=login and max_age are judged against it (a sign-in that happened
// after the request started satisfies them). It is signed with the
// institution's resume key over the request's other parameters, so it cannot
// be forged, moved to another request, or kept for more than an hour.
const (
	paramResume  = "usher_resume"
	resumeMaxAge = time.Hour
)

// resumeToken signs requestedAt for the request form.
func (t *tenant) resumeToken(requestedAt time.Time, form url.Values) string {
	ts := strconv.FormatInt(requestedAt.UnixNano(), 36)
	return ts + "." + t.resumeMAC(ts, form)
}

func (t *tenant) resumeMAC(ts string, form url.Values) string {
	m := hmac.New(sha256.New, t.resumeKey)
	m.Write([]byte(ts))
	m.Write([]byte{0})
	m.Write([]byte(requestParams(form).Encode()))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// requestedAt returns when the request first arrived: the time in a valid
// resume parameter, else now.
func (t *tenant) requestedAt(form url.Values, now time.Time) time.Time {
	ts, mac, ok := strings.Cut(form.Get(paramResume), ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(t.resumeMAC(ts, form))) {
		return now
	}
	n, err := strconv.ParseInt(ts, 36, 64)
	if err != nil {
		return now
	}
	at := time.Unix(0, n)
	if at.After(now) || now.Sub(at) > resumeMaxAge {
		return now
	}
	return at
}

// requestParams returns the authorization request's own parameters, without
// the ones Usher adds while resuming it.
func requestParams(form url.Values) url.Values {
	out := make(url.Values, len(form))
	for k, v := range form {
		if k != paramResume && k != issuer.ConsentDeniedParam {
			out[k] = v
		}
	}
	return out
}
