package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SignInState is where a browser is in signing in: the one state enum of
// the sign-in flow.
type SignInState string

// Sign-in states.
const (
	// Anonymous: nobody is signed in and no step is pending.
	Anonymous SignInState = "anonymous"
	// PasswordChangePending: the right temporary password was given; the
	// account is not signed in until it has a new one.
	PasswordChangePending SignInState = "password_change"
	// TwoFactorPending: the first factor was given; the account is not
	// signed in until it gives a code of its second factor.
	TwoFactorPending SignInState = "two_factor"
	// EnrolmentPending: the first factor was given by an account that must
	// use a second factor and has none: it enrols first.
	EnrolmentPending SignInState = "enrolment"
	// ActivationPending: the right password of an account not activated
	// yet: it may have the activation email sent again, nothing else.
	ActivationPending SignInState = "activation"
	// SignedIn: the account is signed in.
	SignedIn SignInState = "signed_in"
)

// signInEvent is what moves a browser from one state to the next.
type signInEvent string

const (
	// passwordVerified: the right password of an account that may sign in.
	passwordVerified signInEvent = "password verified"
	// temporaryPasswordVerified: the same, for a password that must change.
	temporaryPasswordVerified signInEvent = "temporary password verified"
	// passwordChanged: the temporary password was replaced.
	passwordChanged signInEvent = "password changed"
	// passwordReset: a new password was set with an emailed link.
	passwordReset signInEvent = "password reset"
	// codeVerified: a code of the second factor (or a recovery code) was
	// accepted: at the step after the password, or to step up a sign-in
	// that used the password only.
	codeVerified signInEvent = "code verified"
	// enrolled: a second factor was enrolled, its first code accepted.
	enrolled signInEvent = "enrolled"
	// pendingVerified: the right password of an account not activated yet.
	pendingVerified signInEvent = "pending account's password verified"
	// activated: an activation or invitation link was used.
	activated signInEvent = "activated"
)

// secondFactor is what a sign-in needs once the first factor is given.
type secondFactor int

const (
	noSecondFactor  secondFactor = iota
	codeNeeded                   // the account has a second factor: a code
	enrolmentNeeded              // it must use one and has none: enrolment
)

// errWrongState: a sign-in step was attempted from a state it does not
// start from.
var errWrongState = errors.New("flows: sign-in step out of order")

// pendingStepTTL bounds how long a pending step (the password change, the
// second factor, the enrolment) waits after the password was verified.
const pendingStepTTL = 15 * time.Minute

// next is the state event e leads to from s, when the account needs need
// once its first factor is given. The password step may start from any
// state (signing in again, or as someone else, starts over); the password
// change only from PasswordChangePending; a code from TwoFactorPending, or
// from SignedIn to step up; an enrolment from EnrolmentPending, or from
// SignedIn.
func (s SignInState) next(e signInEvent, need secondFactor) (SignInState, error) {
	firstFactorDone := SignedIn
	switch need {
	case codeNeeded:
		firstFactorDone = TwoFactorPending
	case enrolmentNeeded:
		firstFactorDone = EnrolmentPending
	}
	switch {
	case e == passwordVerified || e == passwordReset || e == activated:
		return firstFactorDone, nil
	case e == pendingVerified:
		return ActivationPending, nil
	case e == temporaryPasswordVerified:
		return PasswordChangePending, nil
	case e == passwordChanged && s == PasswordChangePending:
		return firstFactorDone, nil
	case e == codeVerified && (s == TwoFactorPending || s == SignedIn):
		return SignedIn, nil
	case e == enrolled && (s == EnrolmentPending || s == SignedIn):
		return SignedIn, nil
	}
	return s, fmt.Errorf("%w: %s in state %s", errWrongState, e, s)
}

// signIn is the sign-in flow's state in one browser at one institution:
// the whole of what its session carries. The session store keeps it as
// one opaque value (encode, decodeSignIn) and knows none of its fields.
type signIn struct {
	State SignInState `json:"state"`
	// Account is the signed-in account, or the account of the pending step.
	Account string `json:"account,omitempty"`
	// AuthTime and Methods (RFC 8176: "pwd", "otp") say how the signed-in
	// account authenticated.
	AuthTime time.Time `json:"auth_time,omitzero"`
	Methods  []string  `json:"amr,omitempty"`
	// Deadline ends a pending step; ReturnTo is the authorization request
	// it resumes.
	Deadline time.Time `json:"deadline,omitzero"`
	ReturnTo string    `json:"return_to,omitempty"`
	// Resume is an authorization request the browser left to follow an
	// emailed link (recovery): the link's page resumes it when it is used
	// in this browser before ResumeUntil.
	Resume      string    `json:"resume,omitempty"`
	ResumeUntil time.Time `json:"resume_until,omitzero"`
}

// signInVersion is the version of the encoded state. A session written in
// another version is read as nobody signed in: signing in again is the worst
// an upgrade costs.
const signInVersion = 1

// encodedSignIn is the stored form of a signIn.
type encodedSignIn struct {
	Version int `json:"v"`
	signIn
}

// encode returns the stored form of s.
func (s signIn) encode() ([]byte, error) {
	b, err := json.Marshal(encodedSignIn{Version: signInVersion, signIn: s})
	if err != nil {
		return nil, fmt.Errorf("encode sign-in state: %w", err)
	}
	return b, nil
}

// decodeSignIn reads a stored state; nothing stored, or another version,
// is Anonymous.
func decodeSignIn(data []byte) (signIn, error) {
	if len(data) == 0 {
		return signIn{State: Anonymous}, nil
	}
	var e encodedSignIn
	if err := json.Unmarshal(data, &e); err != nil {
		return signIn{State: Anonymous}, fmt.Errorf("decode sign-in state: %w", err)
	}
	if e.Version != signInVersion {
		return signIn{State: Anonymous}, nil
	}
	return e.signIn, nil
}

// current is the state as it stands at now: a state without what it needs
// (its account, its time), or a pending step past its deadline, is
// Anonymous.
func (s signIn) current(now time.Time) SignInState {
	switch {
	case s.Account == "":
		return Anonymous
	case s.State == SignedIn && !s.AuthTime.IsZero():
		return SignedIn
	case (s.State == PasswordChangePending || s.State == TwoFactorPending || s.State == EnrolmentPending ||
		s.State == ActivationPending) && now.Before(s.Deadline):
		return s.State
	}
	return Anonymous
}

// next is the state event e leads to for account at now, when it needs
// need after its first factor. A pending step keeps the request to resume;
// signing in keeps nothing of the steps, nor a request left for a link. A
// code or an enrolment adds "otp" to the methods of the sign-in (a step-up
// keeps the "pwd" of the sign-in it completes).
func (s signIn) next(e signInEvent, need secondFactor, account string, now time.Time, rt returnTo) (signIn, error) {
	from := s.current(now)
	state, err := from.next(e, need)
	if err != nil {
		return s, err
	}
	switch state {
	case SignedIn:
		out := signIn{State: SignedIn, Account: account, AuthTime: now, Methods: []string{"pwd"}}
		if e == codeVerified || e == enrolled {
			out.Methods = []string{"pwd", "otp"}
		}
		return out, nil
	default:
		out := signIn{State: state, Account: account, Deadline: now.Add(pendingStepTTL)}
		if rt.valid() {
			out.ReturnTo = rt.raw
		}
		return out, nil
	}
}

// owner is the account the session belongs to, by which the store indexes
// it ("" for none): signed in or in a step of signing in.
func (s signIn) owner() string {
	if s.State == Anonymous {
		return ""
	}
	return s.Account
}

// resumeTTL is how long a request left for an emailed link waits.
const resumeTTL = time.Hour

// leave returns s with rt left to be resumed after an emailed link.
func (s signIn) leave(rt returnTo, now time.Time) signIn {
	s.Resume, s.ResumeUntil = rt.raw, now.Add(resumeTTL)
	return s
}

// resumable is the request left for an emailed link, if it still waits.
func (s signIn) resumable(slug string, now time.Time) returnTo {
	if s.Resume == "" || !now.Before(s.ResumeUntil) {
		return returnTo{}
	}
	rt, _ := parseReturnTo(slug, s.Resume)
	return rt
}
