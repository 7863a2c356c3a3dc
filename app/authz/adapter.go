package authz

import (
	"errors"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"gorm.io/gorm"
)

// policyRule is one row of casbin_rule, the table Casbin's adapters share.
type policyRule struct {
	Ptype, V0, V1, V2, V3, V4, V5 string
}

func (policyRule) TableName() string { return "casbin_rule" }

// dbAdapter loads policies from casbin_rule. Policies change only through
// migrations, so it is read-only: saving through the enforcer is refused.
//
// It replaces casbin/gorm-adapter, which imports a second pure-Go SQLite
// driver that registers the name "sqlite" too and so cannot live beside
// modernc.org/sqlite in one program (see app/db).
type dbAdapter struct{ db *gorm.DB }

var errReadOnly = errors.New("authz: policies change only through migrations")

// LoadPolicy implements persist.Adapter.
func (a dbAdapter) LoadPolicy(m model.Model) error {
	var rows []policyRule
	if err := a.db.Order("id").Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		rule := []string{r.Ptype, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}
		for len(rule) > 1 && rule[len(rule)-1] == "" {
			rule = rule[:len(rule)-1]
		}
		if err := persist.LoadPolicyArray(rule, m); err != nil {
			return err
		}
	}
	return nil
}

// SavePolicy implements persist.Adapter.
func (dbAdapter) SavePolicy(model.Model) error { return errReadOnly }

// AddPolicy implements persist.Adapter.
func (dbAdapter) AddPolicy(string, string, []string) error { return errReadOnly }

// RemovePolicy implements persist.Adapter.
func (dbAdapter) RemovePolicy(string, string, []string) error { return errReadOnly }

// RemoveFilteredPolicy implements persist.Adapter.
func (dbAdapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }
