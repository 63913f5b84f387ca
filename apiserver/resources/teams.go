package resources

import (
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Team is the REST form of a Team object.
type Team struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Slug        string    `json:"slug"`
	Plan        string    `json:"plan"`
	MemberCount int       `json:"member_count"`
	Role        *string   `json:"role"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// NewTeam renders a Team object; role is the caller's role in it, if any.
func NewTeam(t *qualv1alpha1.Team, role qualv1alpha1.TeamRole) Team {
	out := Team{
		ID: string(t.UID), Name: t.Spec.DisplayName, Slug: t.Name, Plan: string(PlanOf(t)),
		MemberCount: len(t.Spec.Members), CreatedAt: kubeTime(t.CreationTimestamp.Time), UpdatedAt: UpdatedAt(&t.ObjectMeta),
	}
	if role != "" {
		r := string(role)
		out.Role = &r
	}
	return out
}

// PlanOf is a team's plan, starter when unset.
func PlanOf(t *qualv1alpha1.Team) qualv1alpha1.Plan {
	if t.Spec.Plan == "" {
		return qualv1alpha1.PlanStarter
	}
	return t.Spec.Plan
}

// Member is the REST form of a team member.
type Member struct {
	UserID  *string    `json:"user_id"`
	Email   string     `json:"email"`
	Role    string     `json:"role"`
	AddedAt *time.Time `json:"added_at"`
}

// NewMember renders a team member.
func NewMember(m qualv1alpha1.TeamMember) Member {
	out := Member{Email: m.Email, Role: string(m.Role), AddedAt: timePtr(m.AddedAt)}
	if m.UserID != "" {
		id := m.UserID
		out.UserID = &id
	}
	return out
}
