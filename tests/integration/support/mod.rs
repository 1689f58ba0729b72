//! What the stories share: the control plane and kubectl (`cluster`), a live livestream-local
//! and its AWS clients (`cloud`), the operator under test (`operator`), a clock burnt into the
//! pushed picture (`clock`), and the checks several stories make (an inventory of AWS resources,
//! RBAC questions).

pub mod checks;
pub mod clock;
pub mod cloud;
pub mod cluster;
pub mod operator;
