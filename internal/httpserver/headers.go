package httpserver

import "net/http"

// SecurityHeaders sets the security headers on every response, before the
// handler writes: csp as the Content-Security-Policy (Usher's is
// templates.ContentSecurityPolicy), no sniffing, no referrer, no framing.
// Strict-Transport-Security is only sent when the public URL is https.
func SecurityHeaders(csp string, httpsPublic bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if httpsPublic {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}
