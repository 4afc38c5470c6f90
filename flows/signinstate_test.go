package flows

import (
	"errors"
	"testing"
)

func TestSignInTransitions(t *testing.T) {
	tests := []struct {
		from SignInState
		e    signInEvent
		to   SignInState
		ok   bool
	}{
		{Anonymous, passwordVerified, SignedIn, true},
		{Anonymous, temporaryPasswordVerified, PasswordChangePending, true},
		{Anonymous, passwordChanged, Anonymous, false},
		{PasswordChangePending, passwordChanged, SignedIn, true},
		{PasswordChangePending, passwordVerified, SignedIn, true}, // signing in again starts over
		{SignedIn, passwordChanged, SignedIn, false},
		{SignedIn, passwordVerified, SignedIn, true},
		{SignedIn, temporaryPasswordVerified, PasswordChangePending, true},
	}
	for _, tt := range tests {
		to, err := tt.from.next(tt.e)
		if to != tt.to || (err == nil) != tt.ok || (err != nil && !errors.Is(err, errWrongState)) {
			t.Errorf("%s --%s--> %s, %v; want %s, ok %v", tt.from, tt.e, to, err, tt.to, tt.ok)
		}
	}
}
