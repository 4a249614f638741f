//! Password policy (等保 2.0: length and character classes), checked before any hash is made.

use serde::{Deserialize, Serialize};

/// The rules a new password must meet. Both numbers are settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    /// At least this many characters.
    pub min_length: usize,
    /// At least this many of the four classes: upper case, lower case, digits, symbols.
    pub min_classes: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            min_classes: 3,
        }
    }
}

impl PasswordPolicy {
    /// Every reason the password is refused, in Chinese; empty when it is acceptable.
    pub fn problems(&self, password: &str, username: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let length = password.chars().count();
        if length < self.min_length {
            problems.push(format!("密码至少需要{}个字符", self.min_length));
        }
        if length > 128 {
            problems.push("密码不能超过128个字符".to_owned());
        }
        let classes = [
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_ascii_alphanumeric()),
        ]
        .into_iter()
        .filter(|present| *present)
        .count();
        if classes < self.min_classes {
            problems.push(format!(
                "密码需包含大写字母、小写字母、数字、符号中的至少{}类",
                self.min_classes
            ));
        }
        if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
            problems.push("密码不能包含用户名".to_owned());
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_with_three_classes_and_eight_characters_is_accepted() {
        assert!(
            PasswordPolicy::default()
                .problems("Abcdef12", "ducha")
                .is_empty()
        );
    }

    #[test]
    fn a_short_password_is_refused_with_the_length_named() {
        let problems = PasswordPolicy::default().problems("Ab1!", "x");
        assert_eq!(problems, vec!["密码至少需要8个字符".to_owned()]);
    }

    #[test]
    fn a_password_of_two_classes_is_refused() {
        let problems = PasswordPolicy::default().problems("abcdefgh12", "x");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("至少3类"));
    }

    #[test]
    fn a_password_containing_the_username_is_refused() {
        let problems = PasswordPolicy::default().problems("Ducha#2026", "ducha");
        assert_eq!(problems, vec!["密码不能包含用户名".to_owned()]);
    }
}
