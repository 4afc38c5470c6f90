package issuer

// The second factor. The authorization endpoint sends a browser whose
// sign-in lacks the second factor that the client, the account or the
// request (acr_values) requires to TwoFactorPath, with return_to: the page
// asks for a code (or, for an account without a second factor, sends it on
// to enrol), then resumes the request.
const (
	TwoFactorPath = "/login/2fa" // the code of the second factor
	EnrolmentPath = "/2fa/setup" // enrolment of a second factor

	// ACROnePassword and ACRTwoFactors are the authentication context
	// classes Usher asserts (acr): a password, or a password and a
	// second factor. acr_values naming ACRTwoFactors asks for the second.
	ACROnePassword = "1"
	ACRTwoFactors  = "2"
)
