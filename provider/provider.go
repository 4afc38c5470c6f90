// Package provider is the protocol side of Usher: one fosite OAuth 2.0 and
// OpenID Connect provider per institution, its endpoints, discovery, keys,
// and the registration rules of clients.
package provider
