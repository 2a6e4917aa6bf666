// Package credfile keeps access keys in an AWS shared credentials file
// (~/.aws/credentials), one profile per key, as a [rotate.Store]:
//
//	[app]
//	aws_access_key_id = AKIA...
//	aws_secret_access_key = ...
//	region = eu-west-1
//
// [New] returns the [Store] of one profile: Put sets the profile's key,
// Holding reads back the key ID the profile holds, and Load gives back the
// key, secret included, so that a rotation resumed by another process can
// verify it ([rotate.Loader]). [NewStaging] returns a [Staging] store,
// which keeps a new key in a pending profile until Promote.
//
// # The file
//
// The file is read as the AWS SDK for Go v2 reads it (comments after '#'
// or ';', "name = value" with any spacing, setting names in any case,
// duplicate sections merged, CRLF line endings). A write changes only the
// profile's aws_access_key_id and aws_secret_access_key, and removes its
// aws_session_token, since a long-term key has none; the profile's other
// settings (region, say), other profiles, comments, blank lines and the
// file's line endings are kept. "[profile app]" is the config file's
// syntax: in a credentials file it does not name the profile app.
//
// Every write replaces the file atomically: the new content goes to a
// temporary file in the same directory, mode 0600, synced, then renamed
// over the file, and the directory is synced. A reader sees the old file
// or the new one, never half of one. The file's mode becomes 0600 whatever
// it was; its owner is kept where the process may set it (as root). A symbolic link (into a dotfiles repository, say) is followed
// and kept: its target is replaced. A missing file is created; a missing
// directory is an error.
//
// # Concurrent writers
//
// Each write reads the file, edits it and replaces it while holding an
// advisory lock (flock(2)) on a sidecar file, the credentials file's
// resolved path followed by ".lock", which is created and left in place.
// Writers of this package, in this process or others on the machine, so
// never lose each other's profiles; a write waits for the lock until its
// context is done. Programs that do not take the lock (a text editor, aws
// configure) are not kept out, and a lock on a network file system is only
// as good as that system's flock. On platforms without flock (Windows,
// among others) every write fails with an error wrapping
// errors.ErrUnsupported. Reads take no lock.
//
// # Errors
//
// Put's error wraps [rotate.ErrNotStored] only when the file is known to
// be as it was (bad input, a failure to lock, read or write the temporary
// file, or a context done before the rename) and does not hold the key
// already, from an earlier Put. From the rename on, an error
// means "cannot tell" (a rename on a network file system can apply and
// still fail), and the rotation reads the file back with Holding. No error
// shows a secret.
//
// # Staging
//
// A [Staging] store writes the new key into a pending profile (by default
// "<profile>-pending", see [WithPendingProfile]) that no consumer reads,
// and Promote moves it into the profile in one atomic replace, removing
// the pending profile. Staging makes sense when the rotation has a
// verifier (such as [rotate.STSVerifier]): a new IAM key takes seconds to
// work everywhere, and with staging a consumer that reads the profile
// (a program starting up, the AWS CLI on every call) never sees a key that
// has not worked yet. Without a verifier the rotation promotes the new key
// as soon as it is stored, and staging only costs a second write. The
// pending profile shows up in aws configure list-profiles: name it so that
// nobody takes it for a working profile.
package credfile
