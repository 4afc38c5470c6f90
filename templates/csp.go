package templates

// ContentSecurityPolicy is the Content-Security-Policy the pages and their
// static files are written against: no inline script or style (the brand
// colour travels as a stylesheet of its own, see brand.go), images from
// Usher or https (institution logos), no framing, no <base>. Every response
// carries it (httpserver.SecurityHeaders sends it).
//
// It has no form-action directive on purpose: Chrome applies form-action to
// the redirect that follows a form POST, which would break the redirects to
// relying parties.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: https:; font-src 'self'; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"
