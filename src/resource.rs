//! The identity of a resource a LiveStream owns: its kind and its role among the stream's
//! resources of that kind. A leaf: the desired-state builders, the AWS seam and the reconciler
//! all name resources by it.

/// The kinds of AWS resource a LiveStream owns.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Kind {
    PackageChannel,
    Endpoint,
    SecurityGroup,
    Input,
    /// The Secrets Manager secret that holds an SRT input's passphrase.
    Secret,
    Channel,
    /// MediaPackage v2: the stream's channel (its shared group is created with it).
    ChannelV2,
    /// MediaPackage v2: the channel's origin endpoints.
    OriginEndpoint,
    /// The CloudFront distribution in front of the origin and the player bucket.
    Distribution,
    /// The player page's objects in the (shared) player bucket.
    Page,
}

/// Which of a stream's resources of one kind: most kinds hold one per stream (`Main`); some hold a
/// set keyed by role, e.g. `Input(Primary)` and `Input(Backup)`. Names, owner tags, idempotency
/// tokens and the read cache are all per (kind, role).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Main,
    Primary,
    Backup,
    /// MediaPackage v2 origin endpoints, one per manifest kind.
    Hls,
    LowLatencyHls,
    Dash,
}

impl Role {
    /// The value of the `livestream.io/role` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::Primary => "primary",
            Self::Backup => "backup",
            Self::Hls => "hls",
            Self::LowLatencyHls => "llhls",
            Self::Dash => "dash",
        }
    }

    pub fn parse(tag: &str) -> Option<Self> {
        [
            Self::Main,
            Self::Primary,
            Self::Backup,
            Self::Hls,
            Self::LowLatencyHls,
            Self::Dash,
        ]
        .into_iter()
        .find(|r| r.as_str() == tag)
    }
}

/// One resource of a stream: its kind and its role among the stream's resources of that kind.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Ref {
    pub kind: Kind,
    pub role: Role,
}

impl Kind {
    /// The stream's one resource of this kind.
    pub const fn main(self) -> Ref {
        Ref {
            kind: self,
            role: Role::Main,
        }
    }

    pub const fn role(self, role: Role) -> Ref {
        Ref { kind: self, role }
    }
}

/// What must happen next to a resource that has to go (the stream deleted, a role or a version
/// it no longer uses): each kind says, from the state AWS describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Teardown {
    /// AWS refuses to delete it as it is: stop it first (a running channel stops, an enabled
    /// distribution is disabled), then wait for that.
    Stop,
    /// Delete it. `settles`: AWS deletes it over time, so look again before what depends on it.
    Delete { settles: bool },
    /// It is moving (starting, stopping, being created or deleted, still attached): look again.
    Wait(String),
}
