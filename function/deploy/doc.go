// Package deploy has no code of its own: its tests hold the deployment
// surface (s.yaml, deploy/ram-policy.json, dist/code.zip) to the function's
// configuration (function/config) and to the fc3 component's JSON schema.
//
// `go test ./function/deploy` runs the static checks offline. `make
// deploy-check` also renders s.yaml with `s preview` (no credentials, dummy
// secrets) and builds dist/code.zip, and passes them in CAMS_ALERT_PREVIEW
// and CAMS_ALERT_ZIP to the checks that need them.
package deploy
