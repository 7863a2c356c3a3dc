package config

import (
	"fmt"
	"net/url"
	"strings"
)

// SSOEnabled reports whether staff single sign-on is configured.
func (c *Config) SSOEnabled() bool { return c.OIDCIssuer != "" }

// RoleMap parses OIDCRoleMap (group=role,group=role) into group → role. The
// roles themselves are checked by the sso package, which knows them.
func (c *Config) RoleMap() (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(c.OIDCRoleMap, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		i := strings.LastIndex(pair, "=")
		if i <= 0 || i == len(pair)-1 {
			return nil, fmt.Errorf("STORYKEEP_OIDC_ROLE_MAP: %q is not group=role", pair)
		}
		out[strings.TrimSpace(pair[:i])] = strings.TrimSpace(pair[i+1:])
	}
	return out, nil
}

// Scopes returns the OIDC scopes asked for, always with openid first.
func (c *Config) Scopes() []string {
	out := []string{"openid"}
	for _, s := range strings.FieldsFunc(c.OIDCScopes, func(r rune) bool { return r == ',' || r == ' ' }) {
		if s != "openid" {
			out = append(out, s)
		}
	}
	return out
}

func (c *Config) finishSSO() error {
	c.BreakGlassEmail = strings.ToLower(strings.TrimSpace(c.BreakGlassEmail))
	if !c.LocalPasswords {
		if !c.SSOEnabled() {
			return fmt.Errorf("STORYKEEP_LOCAL_PASSWORDS=false needs single sign-on (STORYKEEP_OIDC_ISSUER), or nobody could sign in")
		}
		if c.BreakGlassEmail == "" {
			return fmt.Errorf("STORYKEEP_LOCAL_PASSWORDS=false needs STORYKEEP_BREAK_GLASS_EMAIL: one admin must be able to sign in when the identity provider is down")
		}
	}
	if !c.SSOEnabled() {
		return nil
	}
	u, err := url.Parse(c.OIDCIssuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("STORYKEEP_OIDC_ISSUER: %q must be the provider's issuer URL, such as https://login.microsoftonline.com/<tenant>/v2.0", c.OIDCIssuer)
	}
	if c.OIDCClientID == "" {
		return fmt.Errorf("STORYKEEP_OIDC_ISSUER is set: STORYKEEP_OIDC_CLIENT_ID is needed too")
	}
	if c.OIDCGroupsClaim == "" {
		return fmt.Errorf("STORYKEEP_OIDC_GROUPS_CLAIM: must name the claim that lists groups")
	}
	m, err := c.RoleMap()
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return fmt.Errorf("STORYKEEP_OIDC_ROLE_MAP: name at least one group=role, or nobody could sign in with single sign-on")
	}
	return nil
}
