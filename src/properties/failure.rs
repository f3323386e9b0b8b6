//! How reading a property fails, named after the Python exception Heat raises: which one
//! a plugin's `try` catches decides whether Heat skips one resource or abandons a rule.

/// How reading a property fails, named after the Python exception Heat raises. Which of
/// these a plugin survives decides whether Heat skips one resource or abandons the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// ValueError or TypeError: bad value, missing required property, unresolvable
    /// function. The plugins' `except (ValueError, TypeError)` skips the resource.
    Invalid(String),
    /// StackValidationFailed: a REPLACE rule found the deprecated and the new name both
    /// set. Not caught by any plugin: the rest of that plugin's rule is lost.
    Conflict(String),
    /// KeyError: `properties[X]` on a schema without `X` (e.g. a resource mapped to
    /// `OS::Heat::None`, whose schema is empty). Not caught by the plugins.
    NoSuchProperty(String),
    /// AttributeError/TypeError in plugin code outside any `try`, from a value of the
    /// wrong shape (e.g. calling `.get` on a string). Not caught by the plugins.
    WrongShape(String),
    /// Something Heat would do that this module does not model (a plugin's schema we
    /// do not carry, `json.dumps` of a list). The caller should treat the result as unsure.
    Unmodelled(String),
}

impl Failure {
    /// True for the exceptions the plugins' `except (ValueError, TypeError)` catches.
    pub fn is_caught_by_plugins(&self) -> bool {
        matches!(self, Failure::Invalid(_))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Invalid(m) => write!(f, "ValueError: {m}"),
            Failure::Conflict(m) => write!(f, "StackValidationFailed: {m}"),
            Failure::NoSuchProperty(m) => write!(f, "KeyError: {m}"),
            Failure::WrongShape(m) => write!(f, "AttributeError/TypeError: {m}"),
            Failure::Unmodelled(m) => write!(f, "not modelled: {m}"),
        }
    }
}

impl Failure {
    /// A REPLACE rule found the deprecated and the new name both set.
    pub fn conflict(new: &str, old: &str) -> Failure {
        Failure::Conflict(format!(
            "Cannot define the following properties at the same time: {new}, {old}"
        ))
    }
}

/// A function in a property could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyError {
    /// Heat raises too (its property layer turns it into a ValueError).
    Raised(String),
    /// heat-converge cannot tell what Heat would give (a function it does not evaluate):
    /// the plugins must not take it for Heat's ValueError.
    Unknowable(String),
}
