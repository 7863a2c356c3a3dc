package auth

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/url"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// NewTOTPKey creates a TOTP secret for account (an email) and returns the
// secret and a PNG QR code as a data: URL for authenticator apps.
func NewTOTPKey(issuer, account string) (secret, qrDataURL string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account})
	if err != nil {
		return "", "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", "", err
	}
	return key.Secret(), "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// ValidTOTP checks a six-digit code, allowing one step of clock drift.
func ValidTOTP(code, secret string, at time.Time) bool {
	ok, err := totp.ValidateCustom(code, secret, at, totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return err == nil && ok
}

// TOTPCode returns the current code for secret (tests and tooling).
func TOTPCode(secret string, at time.Time) string {
	c, _ := totp.GenerateCode(secret, at)
	return c
}

// TOTPQR renders the QR code for an existing secret (when the enrolment form
// is shown again after a wrong code).
func TOTPQR(issuer, account, secret string) (string, error) {
	key, err := otp.NewKeyFromURL("otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?secret=" + url.QueryEscape(secret) + "&issuer=" + url.QueryEscape(issuer))
	if err != nil {
		return "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
