pub(crate) mod certs_builder;
pub(super) mod certs_requestor;
pub(crate) mod msg_types;
pub(crate) mod reward_certs_service;
