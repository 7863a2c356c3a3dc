package patients

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/models"
)

// SettingMRN turns the medical record number field on. It is off by default:
// a story rarely needs an MRN, so none is collected unless an admin decides.
const SettingMRN = "patients.mrn_enabled"

// Settings reads and changes organisation-wide settings; changes are audited.
type Settings struct {
	db    *gorm.DB
	audit *audit.Log
}

// MRNEnabled reports whether patients may have a medical record number.
func (s *Settings) MRNEnabled(ctx context.Context) (bool, error) {
	v, err := s.get(ctx, SettingMRN)
	if err != nil {
		return false, err
	}
	on, _ := strconv.ParseBool(v)
	return on, nil
}

// SetMRNEnabled turns the medical record number field on or off.
func (s *Settings) SetMRNEnabled(ctx context.Context, userID string, on bool) error {
	return s.set(ctx, userID, SettingMRN, strconv.FormatBool(on))
}

func (s *Settings) get(ctx context.Context, key string) (string, error) {
	var row models.Setting
	err := s.db.WithContext(ctx).Where("key = ?", key).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	return row.Value, err
}

func (s *Settings) set(ctx context.Context, userID, key, value string) error {
	row := models.Setting{Key: key, Value: value, UpdatedBy: userID, UpdatedAt: time.Now().UTC()}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value", "updated_by", "updated_at"})}).Create(&row).Error
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "settings.update", ObjectType: "setting", ObjectID: key, Details: map[string]any{"value": value}})
	})
}
