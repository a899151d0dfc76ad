//! `atelier-auth`: users, passwords, sessions and roles, alone — the same as `atelier serve auth`,
//! in a binary that holds this role's code only.

atelier::role_binary!("atelier-auth", auth(AuthArgs), "Atelier's auth service: users, passwords, sessions and roles.");
