package plan

import (
	"regexp"
	"strings"

	"github.com/appendonly/appendonly/check"
)

// Defaults and limits of the backup.
const (
	DefaultBackupSchedule      = "cron(0 5 * * ? *)"
	DefaultBackupRetentionDays = 35
	DefaultChangeableForDays   = 3
	minChangeableForDays       = 3
	minDaysInColdStorage       = 90
)

var (
	backupVaultArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$`)
	vaultNameRe      = regexp.MustCompile(`^[A-Za-z0-9_.-]{2,50}$`)
)

// Lock modes, as VaultLock and ObjectLock number them.
const (
	Governance = 0
	Compliance = 1
)

// Backup is BackupProps as plain values: Lock is Governance or Compliance,
// and 0 is a field left unset.
type Backup struct {
	Lock                 int
	ChangeableForDays    int
	MaxRetentionDays     int
	VaultName, VaultArn  string
	Schedule             string
	RetentionDays        int
	ColdStorageAfterDays int
	CopyToVaultArn       string
	CopyRetentionDays    int
}

// Retention is RetentionDays, or its default.
func (b Backup) Retention() int {
	if b.RetentionDays == 0 {
		return DefaultBackupRetentionDays
	}
	return b.RetentionDays
}

// CopyRetention is how long a copy is kept: CopyRetentionDays, or the
// retention.
func (b Backup) CopyRetention() int {
	if b.CopyRetentionDays == 0 {
		return b.Retention()
	}
	return b.CopyRetentionDays
}

// ScheduleOrDefault is Schedule, or its default.
func (b Backup) ScheduleOrDefault() string {
	if b.Schedule == "" {
		return DefaultBackupSchedule
	}
	return b.Schedule
}

// Validate reports every problem with b, each naming its prop as
// Backup.<field>.
func (b Backup) Validate() Errors {
	var e Errors
	retention := b.Retention()
	if retention < 1 || retention > MaxDays {
		e.Add("Backup.RetentionDays: %d is out of range: 1 to %d days", b.RetentionDays, MaxDays)
	}
	if b.Lock != Governance && b.Lock != Compliance {
		e.Add("Backup.Lock: %d is not a mode: VaultLockGovernance (the default) or VaultLockCompliance", b.Lock)
	}
	if b.VaultArn != "" {
		if !IsToken(b.VaultArn) && !backupVaultArnRe.MatchString(b.VaultArn) {
			e.Add("Backup.VaultArn: %q is not a backup vault ARN: arn:aws:backup:<region>:<account>:backup-vault:<name>", b.VaultArn)
		}
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"Lock", b.Lock != Governance}, {"ChangeableForDays", b.ChangeableForDays != 0},
			{"MaxRetentionDays", b.MaxRetentionDays != 0}, {"VaultName", b.VaultName != ""},
		} {
			if f.set {
				e.Add("Backup.%s: only for a vault the construct creates: with VaultArn the vault's lock is its owner's", f.name)
			}
		}
	} else {
		if b.VaultName != "" && !IsToken(b.VaultName) && !vaultNameRe.MatchString(b.VaultName) {
			e.Add("Backup.VaultName: %q is not a valid vault name: 2 to 50 characters of letters, digits, '_', '-' and '.'", b.VaultName)
		}
		switch {
		case b.Lock == Compliance && b.ChangeableForDays != 0 && b.ChangeableForDays < minChangeableForDays:
			e.Add("Backup.ChangeableForDays: %d is too short: AWS Backup requires at least %d days before a compliance lock becomes permanent", b.ChangeableForDays, minChangeableForDays)
		case b.Lock == Compliance && b.ChangeableForDays > MaxDays:
			e.Add("Backup.ChangeableForDays: %d is out of range: %d to %d days", b.ChangeableForDays, minChangeableForDays, MaxDays)
		case b.Lock != Compliance && b.ChangeableForDays != 0:
			e.Add("Backup.ChangeableForDays: only with Lock VaultLockCompliance: a governance lock has no cooling-off period")
		}
		if b.MaxRetentionDays != 0 && (b.MaxRetentionDays < retention || b.MaxRetentionDays > MaxDays) {
			e.Add("Backup.MaxRetentionDays: %d must be at least RetentionDays (%d) and at most %d: the lock would refuse the plan's own recovery points", b.MaxRetentionDays, retention, MaxDays)
		}
	}
	if s := b.Schedule; s != "" && !IsToken(s) && !((strings.HasPrefix(s, "cron(") || strings.HasPrefix(s, "rate(")) && strings.HasSuffix(s, ")")) {
		e.Add("Backup.Schedule: %q is not a schedule expression: cron(minutes hours day-of-month month day-of-week year) or rate(value unit)", s)
	}
	if c := b.ColdStorageAfterDays; c != 0 && (c < 1 || c+minDaysInColdStorage > retention) {
		e.Add("Backup.ColdStorageAfterDays: %d leaves %d days in cold storage before RetentionDays (%d) ends: AWS Backup requires at least %d", c, retention-c, retention, minDaysInColdStorage)
	}
	if b.CopyToVaultArn != "" && !IsToken(b.CopyToVaultArn) && !backupVaultArnRe.MatchString(b.CopyToVaultArn) {
		e.Add("Backup.CopyToVaultArn: %q is not a backup vault ARN: arn:aws:backup:<region>:<account>:backup-vault:<name>", b.CopyToVaultArn)
	}
	if b.CopyRetentionDays != 0 {
		switch {
		case b.CopyToVaultArn == "":
			e.Add("Backup.CopyRetentionDays: only with CopyToVaultArn")
		case b.CopyRetentionDays < 1 || b.CopyRetentionDays > MaxDays:
			e.Add("Backup.CopyRetentionDays: %d is out of range: 1 to %d days", b.CopyRetentionDays, MaxDays)
		case b.ColdStorageAfterDays != 0 && b.ColdStorageAfterDays+minDaysInColdStorage > b.CopyRetentionDays:
			e.Add("Backup.CopyRetentionDays: %d leaves the copy less than %d days in cold storage after ColdStorageAfterDays (%d)", b.CopyRetentionDays, minDaysInColdStorage, b.ColdStorageAfterDays)
		}
	}
	return e
}

// Vault is what a vault the construct creates must be: its lock, and the
// deny of its access policy.
type Vault struct {
	MinRetentionDays, MaxRetentionDays, ChangeableForDays int // 0: unset
	Deny                                                  Statement
}

// Vault plans the vault the construct creates for b; exempt are the ARNs
// the deny leaves out, as the template holds them.
func (b Backup) Vault(exempt []string) Vault {
	v := Vault{MinRetentionDays: b.Retention(), MaxRetentionDays: b.MaxRetentionDays}
	if b.Lock == Compliance {
		v.ChangeableForDays = b.ChangeableForDays
		if v.ChangeableForDays == 0 {
			v.ChangeableForDays = DefaultChangeableForDays
		}
	}
	v.Deny = Statement{Sid: check.SidVaultProtect, Effect: "Deny", Principal: map[string]any{"AWS": "*"},
		Actions: check.VaultDenyActions(), Resources: []string{"*"}}
	if len(exempt) > 0 {
		v.Deny.Condition = ArnNotLike(exempt)
	}
	return v
}

// Wants are what the check finds of the vault in the final template.
func (v Vault) Wants() []check.Want {
	lock := map[string]any{"MinRetentionDays": v.MinRetentionDays}
	if v.MaxRetentionDays != 0 {
		lock["MaxRetentionDays"] = v.MaxRetentionDays
	}
	if v.ChangeableForDays != 0 {
		lock["ChangeableForDays"] = v.ChangeableForDays
	}
	return []check.Want{{Path: []string{"LockConfiguration"}, Value: lock}}
}
