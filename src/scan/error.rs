//! Why a scan could not run. Findings are not errors: a scan that runs reports them;
//! these stop it (exit status 2).

/// A scan that could not go on. Every message names what to fix, never a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// A URL (the base, a recipe's, `--check`, a `--path`) does not parse or join.
    #[error("{0}")]
    Url(String),
    /// A recipe cannot be used as given (an environment variable it names is not set).
    #[error("{0}")]
    Recipe(String),
    /// A request got no response (connection, TLS, timeout).
    #[error("{request}: {detail}")]
    Unreachable {
        /// Method and URL.
        request: String,
        /// The HTTP client's message.
        detail: String,
    },
    /// The login recipe was refused, so nothing behind the login can be checked.
    #[error("the login recipe '{recipe}' answered {status}: check the recipe and the credentials in the environment")]
    LoginRefused {
        /// The recipe as printed (variables by name).
        recipe: String,
        /// The status of the recipe's first response.
        status: u16,
    },
}
