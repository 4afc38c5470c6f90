// Package flows holds what people do with Usher: the service team setting up
// institutions, operators managing accounts, and the pages a person goes
// through: sign-in with its steps, consent, sign-out, the account page.
//
// Every page flow is one handler type (SignIn, PasswordChange, Consent,
// Logout, AccountPage) with named dependencies, of which the stores are
// narrow interfaces declared beside it, listing only what it calls. What the
// handlers share is one small value, Site (the institution a path names,
// rendering, error pages); routes.go registers them all. A flow is a state
// machine with one enum of states; a transition checks the state it starts
// from.
//
// Flows never import the protocol package: they meet it through the
// browser sessions (who is signed in, issuer.SignedIn) and the URL of the
// authorization request to resume (package issuer), both wired in cmd/usher.
package flows

// Actor names who caused a change in the audit trail.
type Actor string

// Actors that are not an account.
const (
	ActorCLI    Actor = "cli"    // the service team, on the command line
	ActorSelf   Actor = "self"   // the account holder
	ActorSystem Actor = "system" // Usher itself
)

// OperatorActor is the actor of a change made by an operator's account.
func OperatorActor(accountID string) Actor { return Actor("operator:" + accountID) }

// ClientActor is the actor of a change made by a client on its own behalf
// (a box office's back end with a client-credentials token).
func ClientActor(clientID string) Actor { return Actor("client:" + clientID) }

// Metrics counts what happens at sign-in; internal/metrics implements it.
type Metrics interface {
	SignIn(outcome string) // one of the Outcome… values
	Lockout()              // a sign-in key was locked
}

// Sign-in outcomes, as Metrics.SignIn counts them.
const (
	OutcomeSuccess   = "success"   // signed in
	OutcomeFailure   = "failure"   // wrong email or password
	OutcomeLocked    = "locked"    // refused: the key or the address is locked
	OutcomeThrottled = "throttled" // refused: too soon after the last failure
	OutcomeRefused   = "refused"   // the right password, but the account may not sign in
)

// noMetrics counts nothing.
type noMetrics struct{}

func (noMetrics) SignIn(string) {}
func (noMetrics) Lockout()      {}
