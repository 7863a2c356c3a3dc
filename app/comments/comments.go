// Package comments is the internal staff discussion on a story, and the inbox
// that @mentions fill. Comments are plain text and never leave Storykeep.
// Stories live in another package and table; this one only needs a story id,
// so it can ship first (StoryExists, when set, refuses unknown ids).
package comments

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

// MaxBody is the longest comment, in characters.
const MaxBody = 5000

// Service is the comment and inbox service.
type Service struct {
	db    *gorm.DB
	audit *audit.Log
	// StoryExists, when set (by the stories capability), lets Create answer
	// 404 for a story that does not exist.
	StoryExists func(ctx context.Context, id string) (bool, error)
}

// New returns the service.
func New(db *gorm.DB, log *audit.Log) *Service { return &Service{db: db, audit: log} }

// Item is a comment with its author's name, as the thread shows it.
type Item struct {
	models.Comment
	AuthorName string
}

// Posted is the outcome of Create: the comment, who was notified, and the
// mentions that matched more than one person (so nobody was notified).
type Posted struct {
	Comment   *models.Comment
	Notified  []models.User
	Ambiguous []string
}

// ErrStoryNotFound is returned when StoryExists says no.
var ErrStoryNotFound = apperr.NotFound("That story does not exist.")

// Create adds authorID's comment on storyID and notifies each active user it
// mentions (except the author), all in one transaction.
func (s *Service) Create(ctx context.Context, storyID, authorID, body string) (*Posted, error) {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	if body == "" {
		return nil, users.FieldErrors{"body": "Write a comment before posting."}
	}
	if n := utf8.RuneCountInString(body); n > MaxBody {
		return nil, users.FieldErrors{"body": "A comment can be at most " + strconv.Itoa(MaxBody) + " characters; this one has " + strconv.Itoa(n) + "."}
	}
	if s.StoryExists != nil {
		ok, err := s.StoryExists(ctx, storyID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrStoryNotFound
		}
	}
	c := &models.Comment{ID: uuid.Must(uuid.NewV7()).String(), StoryID: storyID, AuthorID: authorID, Body: body}
	out := &Posted{Comment: c}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		var err error
		if out.Notified, out.Ambiguous, err = resolve(tx, Mentions(body), authorID); err != nil {
			return err
		}
		for _, u := range out.Notified {
			n := models.Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: u.ID, Kind: models.NotificationMention,
				ActorID: authorID, StoryID: storyID, CommentID: c.ID}
			if err := tx.Create(&n).Error; err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "comment.create", ObjectType: "comment", ObjectID: c.ID,
			Details: map[string]any{"story_id": storyID, "mentions": len(out.Notified)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// resolve finds the active users each mention names: a full email matches
// exactly; a local part matches when exactly one active user has it.
func resolve(tx *gorm.DB, mentions []string, authorID string) (found []models.User, ambiguous []string, err error) {
	seen := map[string]bool{authorID: true}
	for _, m := range mentions {
		var us []models.User
		q := tx.Where("disabled_at IS NULL")
		if strings.Contains(m, "@") {
			q = q.Where("email = ?", m)
		} else {
			q = q.Where(`email LIKE ? ESCAPE '\'`, escapeLike(m)+"@%")
		}
		if err := q.Limit(2).Find(&us).Error; err != nil {
			return nil, nil, err
		}
		if len(us) > 1 {
			ambiguous = append(ambiguous, "@"+m)
			continue
		}
		if len(us) == 1 && !seen[us[0].ID] {
			seen[us[0].ID] = true
			found = append(found, us[0])
		}
	}
	return found, ambiguous, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ForStory lists a story's comments, oldest first.
func (s *Service) ForStory(ctx context.Context, storyID string) ([]Item, error) {
	var items []Item
	err := s.db.WithContext(ctx).Table("comments").
		Select("comments.*, users.name AS author_name").
		Joins("JOIN users ON users.id = comments.author_id").
		Where("comments.story_id = ?", storyID).Order("comments.created_at, comments.id").Limit(1000).Scan(&items).Error
	return items, err
}

// Entry is one inbox line: the notification, who caused it and an excerpt
// of the comment.
type Entry struct {
	models.Notification
	ActorName string
	Body      string
}

// Excerpt is the start of the comment, for the inbox list.
func (e Entry) Excerpt() string {
	if utf8.RuneCountInString(e.Body) <= 200 {
		return e.Body
	}
	return string([]rune(e.Body)[:200]) + "…"
}

// Inbox returns userID's notifications, unread first then newest first.
func (s *Service) Inbox(ctx context.Context, userID string) ([]Entry, error) {
	var es []Entry
	err := s.db.WithContext(ctx).Table("notifications").
		Select("notifications.*, users.name AS actor_name, comments.body AS body").
		Joins("JOIN users ON users.id = notifications.actor_id").
		Joins("LEFT JOIN comments ON comments.id = notifications.comment_id").
		Where("notifications.user_id = ?", userID).
		Order("CASE WHEN notifications.read_at IS NULL THEN 0 ELSE 1 END, notifications.created_at DESC, notifications.id DESC").
		Limit(200).Scan(&es).Error
	return es, err
}

// Unread counts userID's unread notifications.
func (s *Service) Unread(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.Notification{}).Where("user_id = ? AND read_at IS NULL", userID).Count(&n).Error
	return n, err
}

// ErrNotificationNotFound is returned for an id that is not the user's.
var ErrNotificationNotFound = apperr.NotFound("That notification does not exist.")

// MarkRead marks one of userID's notifications read; someone else's is
// "not found", so ids cannot be probed.
func (s *Service) MarkRead(ctx context.Context, userID, id string) error {
	var n models.Notification
	err := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Take(&n).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotificationNotFound
	}
	if err != nil || n.ReadAt != nil {
		return err
	}
	return s.db.WithContext(ctx).Model(&n).Update("read_at", time.Now().UTC()).Error
}

// MarkAllRead marks every one of userID's notifications read.
func (s *Service) MarkAllRead(ctx context.Context, userID string) error {
	return s.db.WithContext(ctx).Model(&models.Notification{}).Where("user_id = ? AND read_at IS NULL", userID).Update("read_at", time.Now().UTC()).Error
}
