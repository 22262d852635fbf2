use {
    crate::{
        banking_trace::BankingPacketSender,
        consensus::vote_stake_tracker::VoteStakeTracker,
        optimistic_confirmation_verifier::OptimisticConfirmationVerifier,
        replay_stage::DUPLICATE_THRESHOLD,
        result::{Error, Result},
        sigverify_stage::GossipSigVerifyHandle,
    },
    agave_banking_stage_ingress_types::BankingPacketBatch,
    agave_votor_messages::{VerifiedVoterSlotsSender, migration::MigrationStatus},
    crossbeam_channel::{Receiver, RecvTimeoutError, Select, Sender, unbounded},
    log::*,
    solana_clock::{BankId, Slot},
    solana_gossip::{
        cluster_info::{ClusterInfo, GOSSIP_SLEEP_MILLIS},
        crds::Cursor,
    },
    solana_hash::Hash,
    solana_ledger::blockstore::Blockstore,
    solana_measure::measure::Measure,
    solana_perf::packet::{self, PacketBatch},
    solana_pubkey::Pubkey,
    solana_rpc::{
        optimistically_confirmed_bank_tracker::{BankNotification, BankNotificationSenderConfig},
        rpc_subscriptions::RpcSubscriptions,
    },
    solana_runtime::{
        bank::Bank,
        bank_forks::{BankForks, SharableBanks},
        commitment::VOTE_THRESHOLD_SIZE,
        epoch_stakes::VersionedEpochStakes,
        vote_sender_types::{ReplayVoteMessage, ReplayVoteReceiver},
    },
    solana_signature::Signature,
    solana_time_utils::AtomicInterval,
    solana_transaction::Transaction,
    solana_vote::{
        vote_parser::{self, ParsedVote},
        vote_transaction::VoteTransaction,
    },
    std::{
        cmp::max,
        collections::{HashMap, hash_map::Entry},
        iter::repeat,
        sync::{
            Arc, RwLock,
            atomic::{AtomicBool, Ordering},
        },
        thread::{self, Builder, JoinHandle, sleep},
        time::{Duration, Instant},
    },
};

// Map from a vote account to the authorized voter for an epoch
pub type ThresholdConfirmedSlots = Vec<(Slot, Hash)>;
pub type VerifiedVoteTransactionsSender = Sender<Vec<Transaction>>;
pub type VerifiedVoteTransactionsReceiver = Receiver<Vec<Transaction>>;
pub type GossipVerifiedVoteHashSender = Sender<(Pubkey, Slot, Hash)>;
pub type GossipVerifiedVoteHashReceiver = Receiver<(Pubkey, Slot, Hash)>;
pub type DuplicateConfirmedSlotsSender = Sender<ThresholdConfirmedSlots>;
pub type DuplicateConfirmedSlotsReceiver = Receiver<ThresholdConfirmedSlots>;

const THRESHOLDS_TO_CHECK: [f64; 2] = [DUPLICATE_THRESHOLD, VOTE_THRESHOLD_SIZE];
const MAX_VOTE_SLOT_DISTANCE_FROM_ROOT: Slot = 50_000;
const MAX_VOTE_HASHES_PER_PUBKEY_PER_SLOT: u8 = 2;

/// Notification channels and context threaded through the vote confirmation
/// pipeline. Groups the senders used to communicate threshold crossings
/// (duplicate confirmation, optimistic confirmation, gossip verified votes,
/// etc.) together with the migration status that gates some notifications.
struct ConfirmationNotifiers {
    gossip_verified_vote_hash_sender: GossipVerifiedVoteHashSender,
    verified_voter_slots_sender: VerifiedVoterSlotsSender,
    rpc_subscriptions: Option<Arc<RpcSubscriptions>>,
    bank_notification_sender: Option<BankNotificationSenderConfig>,
    duplicate_confirmed_slot_sender: Option<DuplicateConfirmedSlotsSender>,
    migration_status: Arc<MigrationStatus>,
}

#[derive(Default)]
pub struct SlotVoteTracker {
    // Maps pubkeys that have voted for this slot
    // to whether or not we've seen the vote on gossip.
    // True if seen on gossip, false if only seen in replay.
    voted: HashMap<Pubkey, bool>,
    optimistic_votes_tracker: HashMap<Hash, VoteStakeTracker>,
    num_optimistic_vote_hashes: HashMap<Pubkey, u8>,
    voted_slot_updates: Option<Vec<Pubkey>>,
    gossip_only_stake: u64,
}

impl SlotVoteTracker {
    pub(crate) fn get_voted_slot_updates(&mut self) -> Option<Vec<Pubkey>> {
        self.voted_slot_updates.take()
    }

    fn add_optimistic_vote(
        &mut self,
        hash: Hash,
        pubkey: Pubkey,
        stake: u64,
        total_epoch_stake: u64,
    ) -> (Vec<bool>, bool) {
        let num_vote_hashes = self.num_optimistic_vote_hashes.entry(pubkey).or_default();
        if *num_vote_hashes >= MAX_VOTE_HASHES_PER_PUBKEY_PER_SLOT {
            return (vec![false; THRESHOLDS_TO_CHECK.len()], false);
        }

        let result @ (_, is_new) = self
            .optimistic_votes_tracker
            .entry(hash)
            .or_default()
            .add_vote_pubkey(pubkey, stake, total_epoch_stake, &THRESHOLDS_TO_CHECK);

        if is_new {
            *num_vote_hashes += 1;
        }

        result
    }
    pub(crate) fn optimistic_votes_tracker(&self, hash: &Hash) -> Option<&VoteStakeTracker> {
        self.optimistic_votes_tracker.get(hash)
    }
}

#[derive(Default)]
pub struct VoteTracker {
    // Map from a slot to a set of validators who have voted for that slot
    slot_vote_trackers: RwLock<HashMap<Slot, Arc<RwLock<SlotVoteTracker>>>>,
}

impl VoteTracker {
    fn get_or_insert_slot_tracker(&self, slot: Slot) -> Arc<RwLock<SlotVoteTracker>> {
        if let Some(slot_vote_tracker) = self.slot_vote_trackers.read().unwrap().get(&slot) {
            return slot_vote_tracker.clone();
        }
        let mut slot_vote_trackers = self.slot_vote_trackers.write().unwrap();
        slot_vote_trackers.entry(slot).or_default().clone()
    }

    pub(crate) fn get_slot_vote_tracker(&self, slot: Slot) -> Option<Arc<RwLock<SlotVoteTracker>>> {
        self.slot_vote_trackers.read().unwrap().get(&slot).cloned()
    }

    #[cfg(test)]
    pub(crate) fn insert_vote(&self, slot: Slot, pubkey: Pubkey) {
        let mut w_slot_vote_trackers = self.slot_vote_trackers.write().unwrap();

        let slot_vote_tracker = w_slot_vote_trackers.entry(slot).or_default();

        let mut w_slot_vote_tracker = slot_vote_tracker.write().unwrap();

        w_slot_vote_tracker.voted.insert(pubkey, true);
        if let Some(ref mut voted_slot_updates) = w_slot_vote_tracker.voted_slot_updates {
            voted_slot_updates.push(pubkey)
        } else {
            w_slot_vote_tracker.voted_slot_updates = Some(vec![pubkey]);
        }
    }

    fn purge_stale_state(&self, root_bank: &Bank) {
        // Purge any outdated slot data
        let new_root = root_bank.slot();
        self.slot_vote_trackers
            .write()
            .unwrap()
            .retain(|slot, _| *slot >= new_root);
    }

    fn progress_with_new_root_bank(&self, root_bank: &Bank) {
        self.purge_stale_state(root_bank);
    }
}

#[derive(Default)]
struct VoteProcessingTiming {
    gossip_txn_processing_time_us: u64,
    gossip_slot_confirming_time_us: u64,
    last_report: AtomicInterval,
}

const VOTE_PROCESSING_REPORT_INTERVAL_MS: u64 = 1_000;

impl VoteProcessingTiming {
    fn reset(&mut self) {
        self.gossip_txn_processing_time_us = 0;
        self.gossip_slot_confirming_time_us = 0;
    }

    fn update(&mut self, vote_txn_processing_time_us: u64, vote_slot_confirming_time_us: u64) {
        self.gossip_txn_processing_time_us += vote_txn_processing_time_us;
        self.gossip_slot_confirming_time_us += vote_slot_confirming_time_us;

        if self
            .last_report
            .should_update(VOTE_PROCESSING_REPORT_INTERVAL_MS)
        {
            datapoint_info!(
                "vote-processing-timing",
                (
                    "vote_txn_processing_us",
                    self.gossip_txn_processing_time_us as i64,
                    i64
                ),
                (
                    "slot_confirming_time_us",
                    self.gossip_slot_confirming_time_us as i64,
                    i64
                ),
            );
            self.reset();
        }
    }
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum BufferedVote {
    Executed(ParsedVote),
    Verified,
}

#[allow(clippy::large_enum_variant)]
enum ReplayVoteAction {
    Executed(ParsedVote),
    Verified,
}

impl From<ReplayVoteAction> for BufferedVote {
    fn from(action: ReplayVoteAction) -> Self {
        match action {
            ReplayVoteAction::Executed(parsed_vote) => Self::Executed(parsed_vote),
            ReplayVoteAction::Verified => Self::Verified,
        }
    }
}

impl BufferedVote {
    fn apply(
        self,
        action: ReplayVoteAction,
        ready_votes: &mut Vec<ParsedVote>,
        replay_bank_id: BankId,
        message_hash: Hash,
    ) -> Option<Self> {
        match (self, action) {
            (Self::Executed(parsed_vote), ReplayVoteAction::Verified)
            | (Self::Verified, ReplayVoteAction::Executed(parsed_vote)) => {
                ready_votes.push(parsed_vote);
                None
            }
            (Self::Verified, ReplayVoteAction::Verified) => Some(Self::Verified),
            (Self::Executed(parsed_vote), ReplayVoteAction::Executed(_)) => {
                debug_assert!(
                    false,
                    "duplicate Executed replay vote for same bank {replay_bank_id} message hash \
                     {message_hash}"
                );
                Some(Self::Executed(parsed_vote))
            }
        }
    }
}

#[derive(Debug)]
enum BankVoteBuffer {
    /// The bank is active and we are buffering votes for it.
    Active {
        slot: Slot,
        votes: HashMap<Hash, BufferedVote>,
    },
    /// The bank is invalid and we are discarding votes.
    Invalid { slot: Slot },
}

impl BankVoteBuffer {
    fn slot(&self) -> Slot {
        match self {
            BankVoteBuffer::Active { slot, .. } => *slot,
            BankVoteBuffer::Invalid { slot } => *slot,
        }
    }
}

struct VoteBuffer {
    bank_votes: HashMap<BankId, BankVoteBuffer>,
}

impl VoteBuffer {
    fn new() -> Self {
        Self {
            bank_votes: HashMap::new(),
        }
    }

    fn receive_and_collect_ready_votes(
        &mut self,
        replay_votes: impl Iterator<Item = ReplayVoteMessage>,
    ) -> Vec<ParsedVote> {
        let mut ready_votes = Vec::new();
        for replay_vote in replay_votes {
            match replay_vote {
                ReplayVoteMessage::VerifiedExecuted(parsed_vote) => ready_votes.push(parsed_vote),
                ReplayVoteMessage::Executed {
                    replay_bank_id,
                    replay_slot,
                    message_hash,
                    parsed_vote,
                } => {
                    match self.bank_votes.entry(replay_bank_id) {
                        Entry::Vacant(entry) => {
                            entry.insert(BankVoteBuffer::Active {
                                slot: replay_slot,
                                votes: HashMap::from([(
                                    message_hash,
                                    BufferedVote::Executed(parsed_vote),
                                )]),
                            });
                        }
                        Entry::Occupied(mut entry) => {
                            let BankVoteBuffer::Active {
                                slot: stored_replay_slot,
                                votes,
                            } = entry.get_mut()
                            else {
                                // Skip votes for invalid banks
                                continue;
                            };
                            debug_assert_eq!(*stored_replay_slot, replay_slot);
                            Self::apply_action_for_message_hash(
                                votes,
                                message_hash,
                                ReplayVoteAction::Executed(parsed_vote),
                                &mut ready_votes,
                                replay_bank_id,
                            );
                            if votes.is_empty() {
                                entry.remove();
                            }
                        }
                    }
                }

                ReplayVoteMessage::Verified {
                    replay_bank_id,
                    replay_slot,
                    message_hashes,
                } => {
                    debug_assert!(
                        !message_hashes.is_empty(),
                        "empty replay Verified message for bank {replay_bank_id}, slot \
                         {replay_slot}"
                    );
                    match self.bank_votes.entry(replay_bank_id) {
                        Entry::Vacant(entry) => {
                            entry.insert(BankVoteBuffer::Active {
                                slot: replay_slot,
                                votes: message_hashes
                                    .into_iter()
                                    .map(|message_hash| (message_hash, BufferedVote::Verified))
                                    .collect(),
                            });
                        }
                        Entry::Occupied(mut entry) => {
                            let BankVoteBuffer::Active {
                                slot: stored_replay_slot,
                                votes,
                            } = entry.get_mut()
                            else {
                                // Skip votes for invalid banks
                                continue;
                            };
                            debug_assert_eq!(*stored_replay_slot, replay_slot);
                            for message_hash in message_hashes.into_iter() {
                                Self::apply_action_for_message_hash(
                                    votes,
                                    message_hash,
                                    ReplayVoteAction::Verified,
                                    &mut ready_votes,
                                    replay_bank_id,
                                );
                            }
                            if votes.is_empty() {
                                entry.remove();
                            }
                        }
                    }
                }
                ReplayVoteMessage::InvalidBank {
                    replay_bank_id,
                    replay_slot,
                } => {
                    self.bank_votes.insert(
                        replay_bank_id,
                        BankVoteBuffer::Invalid { slot: replay_slot },
                    );
                }
                ReplayVoteMessage::BankComplete { replay_bank_id, .. } => {
                    self.bank_votes.remove(&replay_bank_id);
                }
            }
        }

        ready_votes
    }

    #[inline]
    fn apply_action_for_message_hash(
        votes: &mut HashMap<Hash, BufferedVote>,
        message_hash: Hash,
        action: ReplayVoteAction,
        ready_votes: &mut Vec<ParsedVote>,
        replay_bank_id: BankId,
    ) {
        match votes.entry(message_hash) {
            Entry::Vacant(entry) => {
                entry.insert(action.into());
            }
            Entry::Occupied(entry) => {
                let (_message_hash, current_state) = entry.remove_entry();
                if let Some(next_state) =
                    current_state.apply(action, ready_votes, replay_bank_id, message_hash)
                {
                    votes.insert(message_hash, next_state);
                }
            }
        }
    }

    fn prune_stale_slots(&mut self, root_slot: Slot) {
        self.bank_votes.retain(|_, state| state.slot() > root_slot);
    }
}

pub struct ClusterInfoVoteListener {
    thread_hdls: Vec<JoinHandle<()>>,
}

impl ClusterInfoVoteListener {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        exit: Arc<AtomicBool>,
        cluster_info: Arc<ClusterInfo>,
        gossip_sigverify_handle: GossipSigVerifyHandle,
        verified_packets_sender: BankingPacketSender,
        vote_tracker: Arc<VoteTracker>,
        bank_forks: Arc<RwLock<BankForks>>,
        subscriptions: Option<Arc<RpcSubscriptions>>,
        verified_voter_slots_sender: VerifiedVoterSlotsSender,
        gossip_verified_vote_hash_sender: GossipVerifiedVoteHashSender,
        replay_votes_receiver: ReplayVoteReceiver,
        blockstore: Arc<Blockstore>,
        bank_notification_sender: Option<BankNotificationSenderConfig>,
        duplicate_confirmed_slot_sender: DuplicateConfirmedSlotsSender,
    ) -> Self {
        let (verified_vote_transactions_sender, verified_vote_transactions_receiver) = unbounded();
        let listen_thread = {
            let exit = exit.clone();
            let sharable_banks = bank_forks.read().unwrap().sharable_banks();
            Builder::new()
                .name("solCiVoteLstnr".to_string())
                .spawn(move || {
                    let _ = Self::recv_loop(
                        exit,
                        &cluster_info,
                        gossip_sigverify_handle,
                        sharable_banks,
                        verified_packets_sender,
                        verified_vote_transactions_sender,
                    );
                })
                .unwrap()
        };

        let process_thread = Builder::new()
            .name("solCiProcVotes".to_string())
            .spawn(move || {
                let sharable_banks = bank_forks.read().unwrap().sharable_banks();
                let migration_status = bank_forks.read().unwrap().migration_status();
                let notifiers = ConfirmationNotifiers {
                    gossip_verified_vote_hash_sender,
                    verified_voter_slots_sender,
                    rpc_subscriptions: subscriptions,
                    bank_notification_sender,
                    duplicate_confirmed_slot_sender: Some(duplicate_confirmed_slot_sender),
                    migration_status,
                };
                let _ = Self::process_votes_loop(
                    exit,
                    verified_vote_transactions_receiver,
                    vote_tracker,
                    sharable_banks,
                    replay_votes_receiver,
                    blockstore,
                    notifiers,
                );
            })
            .unwrap();

        Self {
            thread_hdls: vec![listen_thread, process_thread],
        }
    }

    pub(crate) fn join(self) -> thread::Result<()> {
        self.thread_hdls.into_iter().try_for_each(JoinHandle::join)
    }

    fn recv_loop(
        exit: Arc<AtomicBool>,
        cluster_info: &ClusterInfo,
        mut gossip_sigverify_handle: GossipSigVerifyHandle,
        sharable_banks: SharableBanks,
        verified_packets_sender: BankingPacketSender,
        verified_vote_transactions_sender: VerifiedVoteTransactionsSender,
    ) -> Result<()> {
        #[derive(Default)]
        struct Stats {
            received_count: usize,
            banking_channel_max_len: usize,
            banking_channel_eviction_drops: usize,
        }
        const STATS_REPORT_INTERVAL: Duration = Duration::from_secs(1);
        let mut cursor = Cursor::default();
        let mut last_report = Instant::now();
        let mut stats = Stats::default();
        while !exit.load(Ordering::Relaxed) {
            let votes = cluster_info.get_votes(&mut cursor);
            if !votes.is_empty() {
                stats.received_count += votes.len();
                let (vote_txs, packets) =
                    Self::verify_votes(votes, &mut gossip_sigverify_handle, &sharable_banks)?;
                verified_vote_transactions_sender.send(vote_txs)?;
                // Sample backlog before the push.
                stats.banking_channel_max_len = stats
                    .banking_channel_max_len
                    .max(verified_packets_sender.len());
                stats.banking_channel_eviction_drops +=
                    verified_packets_sender.send(BankingPacketBatch::new(packets))?;
            }
            if last_report.elapsed() >= STATS_REPORT_INTERVAL {
                datapoint_info!(
                    "cluster_info_vote_listener",
                    ("received_count", stats.received_count as i64, i64),
                    (
                        "banking_channel_max_len",
                        stats.banking_channel_max_len as i64,
                        i64
                    ),
                    (
                        "banking_channel_eviction_drops",
                        stats.banking_channel_eviction_drops as i64,
                        i64
                    ),
                );
                stats = Stats::default();
                last_report = Instant::now();
            }
            sleep(Duration::from_millis(GOSSIP_SLEEP_MILLIS));
        }
        Ok(())
    }

    fn verify_votes(
        votes: Vec<Transaction>,
        gossip_sigverify_handle: &mut GossipSigVerifyHandle,
        sharable_banks: &SharableBanks,
    ) -> Result<(Vec<Transaction>, Vec<PacketBatch>)> {
        let packet_batches = packet::to_packet_batches(&votes, 1);
        let (votes, packet_batches) =
            gossip_sigverify_handle.verify_and_receive_votes(votes, packet_batches)?;
        Ok(Self::filter_verified_votes(
            votes,
            packet_batches,
            sharable_banks,
        ))
    }

    fn filter_verified_votes(
        votes: Vec<Transaction>,
        packet_batches: Vec<PacketBatch>,
        sharable_banks: &SharableBanks,
    ) -> (Vec<Transaction>, Vec<PacketBatch>) {
        let root_bank = sharable_banks.root();
        let epoch_schedule = root_bank.epoch_schedule();
        votes
            .into_iter()
            .zip(packet_batches)
            .filter(|(_, packet_batch)| {
                assert_eq!(packet_batch.len(), 1);
                !packet_batch.get(0).unwrap().meta().discard()
            })
            .filter_map(|(tx, packet_batch)| {
                let (vote_account_key, vote, ..) = vote_parser::parse_vote_transaction(&tx)?;
                let slot = vote.last_voted_slot()?;
                let epoch = epoch_schedule.get_epoch(slot);
                let authorized_voter = root_bank
                    .epoch_stakes(epoch)?
                    .epoch_authorized_voters()
                    .get(&vote_account_key)?;
                let mut keys = tx.message.account_keys.iter().enumerate();
                if !keys.any(|(i, key)| tx.message.is_signer(i) && key == authorized_voter) {
                    return None;
                }
                Some((tx, packet_batch))
            })
            .unzip()
    }

    fn process_votes_loop(
        exit: Arc<AtomicBool>,
        gossip_vote_txs_receiver: VerifiedVoteTransactionsReceiver,
        vote_tracker: Arc<VoteTracker>,
        sharable_banks: SharableBanks,
        replay_votes_receiver: ReplayVoteReceiver,
        blockstore: Arc<Blockstore>,
        notifiers: ConfirmationNotifiers,
    ) -> Result<()> {
        let mut confirmation_verifier =
            OptimisticConfirmationVerifier::new(sharable_banks.root().slot());
        let mut latest_vote_slot_per_validator = HashMap::new();
        let mut last_process_root = Instant::now();
        let mut vote_processing_time = Some(VoteProcessingTiming::default());
        let mut replay_vote_buffer = VoteBuffer::new();
        loop {
            if exit.load(Ordering::Relaxed) {
                return Ok(());
            }

            let root_bank = sharable_banks.root();
            if last_process_root.elapsed().as_nanos() > root_bank.ns_per_slot {
                let unrooted_optimistic_slots = confirmation_verifier
                    .verify_for_unrooted_optimistic_slots(&root_bank, &blockstore);
                // SlotVoteTracker's for all `slots` in `unrooted_optimistic_slots`
                // should still be available because we haven't purged in
                // `progress_with_new_root_bank()` yet, which is called below
                OptimisticConfirmationVerifier::log_unrooted_optimistic_slots(
                    &root_bank,
                    &vote_tracker,
                    &unrooted_optimistic_slots,
                );
                vote_tracker.progress_with_new_root_bank(&root_bank);
                replay_vote_buffer.prune_stale_slots(root_bank.slot());
                last_process_root = Instant::now();
            }
            let confirmed_slots = Self::listen_and_confirm_votes(
                &gossip_vote_txs_receiver,
                &vote_tracker,
                &root_bank,
                &replay_votes_receiver,
                &mut replay_vote_buffer,
                &notifiers,
                &mut vote_processing_time,
                &mut latest_vote_slot_per_validator,
            );
            match confirmed_slots {
                Ok(confirmed_slots) => {
                    let confirmed_slots = confirmed_slots
                        .into_iter()
                        .filter(|(slot, _hash)| {
                            notifiers
                                .migration_status
                                .should_report_commitment_or_root(*slot)
                        })
                        .collect();
                    confirmation_verifier
                        .add_new_optimistic_confirmed_slots(confirmed_slots, &blockstore);
                }
                Err(e) => match e {
                    Error::RecvTimeout(RecvTimeoutError::Disconnected) => {
                        return Ok(());
                    }
                    Error::ReadyTimeout => (),
                    _ => {
                        error!("thread {:?} error {:?}", thread::current().name(), e);
                    }
                },
            }
        }
    }

    fn listen_and_confirm_votes(
        gossip_vote_txs_receiver: &VerifiedVoteTransactionsReceiver,
        vote_tracker: &VoteTracker,
        root_bank: &Bank,
        replay_votes_receiver: &ReplayVoteReceiver,
        replay_vote_buffer: &mut VoteBuffer,
        notifiers: &ConfirmationNotifiers,
        vote_processing_time: &mut Option<VoteProcessingTiming>,
        latest_vote_slot_per_validator: &mut HashMap<Pubkey, Slot>,
    ) -> Result<ThresholdConfirmedSlots> {
        let mut sel = Select::new();
        sel.recv(gossip_vote_txs_receiver);
        sel.recv(replay_votes_receiver);
        let mut remaining_wait_time = Duration::from_millis(200);
        while remaining_wait_time > Duration::ZERO {
            let start = Instant::now();
            // Wait for one of the receivers to be ready. `ready_timeout`
            // will return if channels either have something, or are
            // disconnected. `ready_timeout` can wake up spuriously,
            // hence the loop
            let _ = sel.ready_timeout(remaining_wait_time)?;

            // Should not early return from this point onwards until `process_votes()`
            // returns below to avoid missing any potential `optimistic_confirmed_slots`
            let gossip_vote_txs: Vec<_> = gossip_vote_txs_receiver.try_iter().flatten().collect();
            let replay_votes = replay_vote_buffer
                .receive_and_collect_ready_votes(replay_votes_receiver.try_iter());
            if !gossip_vote_txs.is_empty() || !replay_votes.is_empty() {
                return Ok(Self::filter_and_confirm_with_new_votes(
                    vote_tracker,
                    gossip_vote_txs,
                    replay_votes,
                    root_bank,
                    notifiers,
                    vote_processing_time,
                    latest_vote_slot_per_validator,
                ));
            }
            remaining_wait_time = remaining_wait_time.saturating_sub(start.elapsed());
        }
        Ok(vec![])
    }

    /// Fast-track processing of the last vote slot in a vote transaction for
    /// optimistic confirmation. Checks stake thresholds and sends notifications
    /// for duplicate confirmation and optimistic confirmation as needed.
    /// Returns whether this is a new vote for the slot.
    fn process_last_vote_for_optimistic_confirmation(
        vote_tracker: &VoteTracker,
        last_vote_slot: Slot,
        last_vote_hash: Hash,
        vote_pubkey: &Pubkey,
        root_bank: &Bank,
        is_gossip_vote: bool,
        notifiers: &ConfirmationNotifiers,
        new_optimistic_confirmed_slots: &mut ThresholdConfirmedSlots,
    ) -> bool {
        if last_vote_slot <= root_bank.slot() {
            return false;
        }

        let epoch = root_bank.epoch_schedule().get_epoch(last_vote_slot);
        let Some(epoch_stakes) = root_bank.epoch_stakes(epoch) else {
            return false;
        };

        let stake = epoch_stakes
            .stakes()
            .vote_accounts()
            .get_delegated_stake(vote_pubkey);
        let total_stake = epoch_stakes.total_stake();

        let (reached_threshold_results, is_new) = Self::track_optimistic_confirmation_vote(
            vote_tracker,
            last_vote_slot,
            last_vote_hash,
            *vote_pubkey,
            stake,
            total_stake,
        );

        if is_gossip_vote && is_new && stake > 0 {
            let _ = notifiers.gossip_verified_vote_hash_sender.send((
                *vote_pubkey,
                last_vote_slot,
                last_vote_hash,
            ));
        }

        let reached_duplicate_confirmed = reached_threshold_results[0];
        let reached_optimistic_confirmed = reached_threshold_results[1];

        if reached_duplicate_confirmed
            && let Some(ref sender) = notifiers.duplicate_confirmed_slot_sender
        {
            let _ = sender.send(vec![(last_vote_slot, last_vote_hash)]);
        }

        if reached_optimistic_confirmed {
            new_optimistic_confirmed_slots.push((last_vote_slot, last_vote_hash));
            if let Some(ref sender) = notifiers.bank_notification_sender
                && notifiers
                    .migration_status
                    .should_report_commitment_or_root(last_vote_slot)
            {
                let dependency_work = sender
                    .dependency_tracker
                    .as_ref()
                    .map(|s| s.get_current_declared_work());
                sender
                    .sender
                    .send((
                        BankNotification::OptimisticallyConfirmed(last_vote_slot),
                        dependency_work,
                    ))
                    .unwrap_or_else(|err| warn!("bank_notification_sender failed: {err:?}"));
            }
        }

        is_new
    }

    #[allow(clippy::too_many_arguments)]
    fn track_new_votes_and_notify_confirmations(
        vote: VoteTransaction,
        vote_pubkey: &Pubkey,
        vote_transaction_signature: Signature,
        vote_tracker: &VoteTracker,
        root_bank: &Bank,
        notifiers: &ConfirmationNotifiers,
        diff: &mut HashMap<Slot, HashMap<Pubkey, bool>>,
        new_optimistic_confirmed_slots: &mut ThresholdConfirmedSlots,
        is_gossip_vote: bool,
        latest_vote_slot_per_validator: &mut HashMap<Pubkey, Slot>,
    ) {
        if vote.is_empty() {
            return;
        }

        let (last_vote_slot, last_vote_hash) = vote.last_voted_slot_hash().unwrap();

        let latest_vote_slot = latest_vote_slot_per_validator
            .entry(*vote_pubkey)
            .or_insert(0);

        let root = root_bank.slot();
        let vote_slots = vote.slots();

        // Replay votes have already been executed and their slots validated.
        // Reject gossip votes too far in the future
        let max_vote_slot = root.saturating_add(MAX_VOTE_SLOT_DISTANCE_FROM_ROOT);
        if is_gossip_vote && vote_slots.iter().any(|&slot| slot > max_vote_slot) {
            return;
        }

        let is_new_vote = Self::process_last_vote_for_optimistic_confirmation(
            vote_tracker,
            last_vote_slot,
            last_vote_hash,
            vote_pubkey,
            root_bank,
            is_gossip_vote,
            notifiers,
            new_optimistic_confirmed_slots,
        );

        if !is_new_vote && !is_gossip_vote {
            // By now:
            // 1) The vote must have come from ReplayStage,
            // 2) We've seen this vote from replay for this hash before
            // (`track_optimistic_confirmation_vote()` will not set `is_new == true`
            // for same slot different hash), so short circuit because this vote
            // has no new information

            // Note gossip votes will always be processed because those should be unique
            // and we need to update the gossip-only stake in the `VoteTracker`.
            return;
        }

        // Track all vote slots for propagated check (iterates from most recent to oldest)
        for slot in vote_slots
            .iter()
            .filter(|slot| **slot > root && **slot >= *latest_vote_slot)
            .rev()
        {
            let slot = *slot;

            // If we don't have stake information, ignore it
            let epoch = root_bank.epoch_schedule().get_epoch(slot);
            if root_bank.epoch_stakes(epoch).is_none() {
                continue;
            }

            diff.entry(slot)
                .or_default()
                .entry(*vote_pubkey)
                .and_modify(|seen_in_gossip_previously| {
                    *seen_in_gossip_previously = *seen_in_gossip_previously || is_gossip_vote
                })
                .or_insert(is_gossip_vote);
        }

        *latest_vote_slot = max(*latest_vote_slot, last_vote_slot);

        if is_new_vote {
            if let Some(ref rpc_subscriptions) = notifiers.rpc_subscriptions {
                rpc_subscriptions.notify_vote(*vote_pubkey, vote, vote_transaction_signature);
            }
            let _ = notifiers
                .verified_voter_slots_sender
                .send((*vote_pubkey, vote_slots));
        }
    }

    fn filter_and_confirm_with_new_votes(
        vote_tracker: &VoteTracker,
        gossip_vote_txs: Vec<Transaction>,
        replayed_votes: Vec<ParsedVote>,
        root_bank: &Bank,
        notifiers: &ConfirmationNotifiers,
        vote_processing_time: &mut Option<VoteProcessingTiming>,
        latest_vote_slot_per_validator: &mut HashMap<Pubkey, Slot>,
    ) -> ThresholdConfirmedSlots {
        let mut diff: HashMap<Slot, HashMap<Pubkey, bool>> = HashMap::new();
        let mut new_optimistic_confirmed_slots = vec![];

        // Process votes from gossip and ReplayStage
        let mut gossip_vote_txn_processing_time = Measure::start("gossip_vote_processing_time");
        let votes = gossip_vote_txs
            .iter()
            .filter_map(vote_parser::parse_vote_transaction)
            .zip(repeat(/*is_gossip:*/ true))
            .chain(replayed_votes.into_iter().zip(repeat(/*is_gossip:*/ false)));
        for ((vote_pubkey, vote, _switch_proof, signature), is_gossip) in votes {
            Self::track_new_votes_and_notify_confirmations(
                vote,
                &vote_pubkey,
                signature,
                vote_tracker,
                root_bank,
                notifiers,
                &mut diff,
                &mut new_optimistic_confirmed_slots,
                is_gossip,
                latest_vote_slot_per_validator,
            );
        }
        gossip_vote_txn_processing_time.stop();
        let gossip_vote_txn_processing_time_us = gossip_vote_txn_processing_time.as_us();

        // Process all the slots accumulated from replay and gossip.
        let mut gossip_vote_slot_confirming_time = Measure::start("gossip_vote_slot_confirm_time");
        for (slot, mut slot_diff) in diff {
            let slot_tracker = vote_tracker.get_or_insert_slot_tracker(slot);
            {
                let r_slot_tracker = slot_tracker.read().unwrap();
                // Only keep the pubkeys we haven't seen voting for this slot
                slot_diff.retain(|pubkey, seen_in_gossip_above| {
                    let seen_in_gossip_previously = r_slot_tracker.voted.get(pubkey);
                    let is_new = seen_in_gossip_previously.is_none();
                    // `is_new_from_gossip` means we observed a vote for this slot
                    // for the first time in gossip
                    let is_new_from_gossip = !seen_in_gossip_previously.cloned().unwrap_or(false)
                        && *seen_in_gossip_above;
                    is_new || is_new_from_gossip
                });
            }
            let mut w_slot_tracker = slot_tracker.write().unwrap();
            if w_slot_tracker.voted_slot_updates.is_none() {
                w_slot_tracker.voted_slot_updates = Some(vec![]);
            }
            let mut gossip_only_stake = 0;
            let epoch = root_bank.epoch_schedule().get_epoch(slot);
            let epoch_stakes = root_bank.epoch_stakes(epoch);

            for (pubkey, seen_in_gossip_above) in slot_diff {
                if seen_in_gossip_above {
                    // By this point we know if the vote was seen in gossip above,
                    // it was not seen in gossip at any point in the past (if it was seen
                    // in gossip in the past, `is_new` would be false and it would have
                    // been filtered out above), so it's safe to increment the gossip-only
                    // stake
                    Self::sum_stake(&mut gossip_only_stake, epoch_stakes, &pubkey);
                }

                // From the `slot_diff.retain` earlier, we know because there are
                // no other writers to `slot_vote_tracker` that
                // `is_new || is_new_from_gossip`. In both cases we want to record
                // `is_new_from_gossip` for the `pubkey` entry.
                w_slot_tracker.voted.insert(pubkey, seen_in_gossip_above);
                w_slot_tracker
                    .voted_slot_updates
                    .as_mut()
                    .unwrap()
                    .push(pubkey);
            }

            w_slot_tracker.gossip_only_stake += gossip_only_stake
        }
        gossip_vote_slot_confirming_time.stop();
        let gossip_vote_slot_confirming_time_us = gossip_vote_slot_confirming_time.as_us();

        if let Some(vote_processing_time) = vote_processing_time {
            vote_processing_time.update(
                gossip_vote_txn_processing_time_us,
                gossip_vote_slot_confirming_time_us,
            )
        }
        new_optimistic_confirmed_slots
    }

    // Returns if the slot was optimistically confirmed, and whether
    // the slot was new
    fn track_optimistic_confirmation_vote(
        vote_tracker: &VoteTracker,
        slot: Slot,
        hash: Hash,
        pubkey: Pubkey,
        stake: u64,
        total_epoch_stake: u64,
    ) -> (Vec<bool>, bool) {
        let slot_tracker = vote_tracker.get_or_insert_slot_tracker(slot);
        // Insert vote and check for optimistic confirmation
        let mut w_slot_tracker = slot_tracker.write().unwrap();

        w_slot_tracker.add_optimistic_vote(hash, pubkey, stake, total_epoch_stake)
    }

    fn sum_stake(sum: &mut u64, epoch_stakes: Option<&VersionedEpochStakes>, pubkey: &Pubkey) {
        if let Some(stakes) = epoch_stakes {
            *sum += stakes.stakes().vote_accounts().get_delegated_stake(pubkey)
        }
    }
}

#[cfg(test)]
mod tests {
    use {
        super::*,
        crate::sigverify::GossipVerifiedVoteBatch,
        crossbeam_channel::bounded,
        itertools::Itertools,
        solana_hash::Hash,
        solana_keypair::Keypair,
        solana_leader_schedule::SlotLeader,
        solana_perf::{packet, sigverify},
        solana_pubkey::Pubkey,
        solana_rpc::optimistically_confirmed_bank_tracker::OptimisticallyConfirmedBank,
        solana_runtime::{
            bank::Bank,
            commitment::BlockCommitmentCache,
            genesis_utils::{
                self, GenesisConfigInfo, ValidatorVoteKeypairs, create_genesis_config,
            },
            vote_sender_types::{ReplayVoteMessage, ReplayVoteSender},
        },
        solana_signature::Signature,
        solana_signer::Signer,
        solana_vote::vote_transaction,
        solana_vote_program::vote_state::{MAX_LOCKOUT_HISTORY, TowerSync, Vote},
        std::{
            collections::BTreeSet,
            iter::repeat_with,
            sync::{Arc, atomic::AtomicU64},
        },
    };

    fn pre_send_for_tests(
        verified_vote_sender: &Sender<GossipVerifiedVoteBatch>,
        votes: &[Transaction],
    ) {
        let mut packet_batches = packet::to_packet_batches(votes, 1);
        // Gossip votes are legacy Transaction values, not tx-v1 packets.
        packet_batches
            .iter_mut()
            .for_each(|packet_batch| sigverify::ed25519_verify_serial(packet_batch, true, false));
        // There is no worker thread in these tests, so preload the verified
        // responses that verify_votes() will receive after it sends work.
        votes
            .iter()
            .cloned()
            .zip(packet_batches)
            .for_each(|(transaction, packet_batch)| {
                verified_vote_sender
                    .send(GossipVerifiedVoteBatch {
                        transaction,
                        packet_batch,
                    })
                    .unwrap();
            });
    }

    // Avoid setting up sigverify stage.
    fn test_verify_votes(
        votes: Vec<Transaction>,
        sharable_banks: &SharableBanks,
    ) -> (Vec<Transaction>, Vec<PacketBatch>) {
        let (worker_sender, _worker_receiver) = bounded(1024);
        let (verified_vote_sender, verified_vote_receiver) = bounded(1024);
        let mut gossip_sigverify_handle =
            GossipSigVerifyHandle::new_for_tests(worker_sender, verified_vote_receiver);

        pre_send_for_tests(&verified_vote_sender, &votes);
        ClusterInfoVoteListener::verify_votes(votes, &mut gossip_sigverify_handle, sharable_banks)
            .unwrap()
    }

    #[test]
    fn test_max_vote_tx_fits() {
        agave_logger::setup();
        let node_keypair = Keypair::new();
        let vote_keypair = Keypair::new();
        let tower_sync = TowerSync::new_from_slot(MAX_LOCKOUT_HISTORY as u64, Hash::default());
        let vote_tx = vote_transaction::new_tower_sync_transaction(
            tower_sync,
            Hash::default(),
            &node_keypair,
            &vote_keypair,
            &vote_keypair,
            Some(Hash::default()),
        );

        use bincode::serialized_size;
        info!("max vote size {}", serialized_size(&vote_tx).unwrap());

        let packet_batches = packet::to_packet_batches(&[vote_tx], 1); // panics if won't fit

        assert_eq!(packet_batches.len(), 1);
    }

    #[test]
    fn test_update_new_root() {
        let SetupComponents {
            vote_tracker,
            bank,
            bank_forks: _bank_forks,
            ..
        } = setup();

        // Check outdated slots are purged with new root
        let new_voter = solana_pubkey::new_rand();
        // Make separate copy so the original doesn't count toward
        // the ref count, which would prevent cleanup
        let new_voter_ = new_voter;
        vote_tracker.insert_vote(bank.slot(), new_voter_);
        assert!(
            vote_tracker
                .slot_vote_trackers
                .read()
                .unwrap()
                .contains_key(&bank.slot())
        );
        let bank1 = Bank::new_from_parent(bank.clone(), SlotLeader::default(), bank.slot() + 1);
        vote_tracker.progress_with_new_root_bank(&bank1);
        assert!(
            !vote_tracker
                .slot_vote_trackers
                .read()
                .unwrap()
                .contains_key(&bank.slot())
        );

        // Check `keys` and `epoch_authorized_voters` are purged when new
        // root bank moves to the next epoch
        let current_epoch = bank.epoch();
        let new_epoch_slot = bank
            .epoch_schedule()
            .get_first_slot_in_epoch(current_epoch + 1);
        let new_epoch_bank = Bank::new_from_parent(bank, SlotLeader::default(), new_epoch_slot);
        vote_tracker.progress_with_new_root_bank(&new_epoch_bank);
    }

    #[test]
    fn test_update_new_leader_schedule_epoch() {
        let SetupComponents { bank, .. } = setup();

        // Check outdated slots are purged with new root
        let leader_schedule_epoch = bank.get_leader_schedule_epoch(bank.slot());
        let next_leader_schedule_epoch = leader_schedule_epoch + 1;
        let mut next_leader_schedule_computed = bank.slot();
        loop {
            next_leader_schedule_computed += 1;
            if bank.get_leader_schedule_epoch(next_leader_schedule_computed)
                == next_leader_schedule_epoch
            {
                break;
            }
        }
        assert_eq!(
            bank.get_leader_schedule_epoch(next_leader_schedule_computed),
            next_leader_schedule_epoch
        );
    }

    #[test]
    fn test_votes_in_range() {
        // Create some voters at genesis
        let stake_per_validator = 100;
        let SetupComponents {
            vote_tracker,
            validator_voting_keypairs,
            subscriptions,
            ..
        } = setup();
        let (votes_sender, votes_receiver) = bounded(1024);
        let (verified_voter_slots_sender, _verified_voter_slots_receiver) = bounded(1024);
        let (gossip_verified_vote_hash_sender, _gossip_verified_vote_hash_receiver) = bounded(1024);
        let (replay_votes_sender, replay_votes_receiver) = bounded(1024);
        let mut latest_vote_slot_per_validator = HashMap::new();

        let GenesisConfigInfo { genesis_config, .. } =
            genesis_utils::create_genesis_config_with_vote_accounts(
                10_000,
                &validator_voting_keypairs,
                vec![stake_per_validator; validator_voting_keypairs.len()],
            );

        let (bank0, _bank_forks) =
            Bank::new_for_tests(&genesis_config).wrap_with_bank_forks_for_tests();
        // Votes for slots less than the provided root bank's slot should not be processed
        let bank3 = Arc::new(Bank::new_from_parent(bank0, SlotLeader::default(), 3));
        let vote_slots = vec![1, 2];
        send_vote_txs(
            vote_slots,
            vec![],
            &validator_voting_keypairs,
            None,
            &votes_sender,
            &replay_votes_sender,
        );
        let notifiers = ConfirmationNotifiers {
            gossip_verified_vote_hash_sender: gossip_verified_vote_hash_sender.clone(),
            verified_voter_slots_sender: verified_voter_slots_sender.clone(),
            rpc_subscriptions: Some(subscriptions.clone()),
            bank_notification_sender: None,
            duplicate_confirmed_slot_sender: None,
            migration_status: Arc::new(MigrationStatus::default()),
        };
        let mut replay_vote_buffer = VoteBuffer::new();
        ClusterInfoVoteListener::listen_and_confirm_votes(
            &votes_receiver,
            &vote_tracker,
            &bank3,
            &replay_votes_receiver,
            &mut replay_vote_buffer,
            &notifiers,
            &mut None,
            &mut latest_vote_slot_per_validator,
        )
        .unwrap();

        // Vote slots for slots greater than root bank's set of currently calculated epochs
        // are ignored
        let max_epoch = bank3.get_leader_schedule_epoch(bank3.slot());
        assert!(bank3.epoch_stakes(max_epoch).is_some());
        let unknown_epoch = max_epoch + 1;
        assert!(bank3.epoch_stakes(unknown_epoch).is_none());
        let first_slot_in_unknown_epoch = bank3
            .epoch_schedule()
            .get_first_slot_in_epoch(unknown_epoch);
        let vote_slots = vec![first_slot_in_unknown_epoch, first_slot_in_unknown_epoch + 1];
        send_vote_txs(
            vote_slots,
            vec![],
            &validator_voting_keypairs,
            None,
            &votes_sender,
            &replay_votes_sender,
        );
        ClusterInfoVoteListener::listen_and_confirm_votes(
            &votes_receiver,
            &vote_tracker,
            &bank3,
            &replay_votes_receiver,
            &mut replay_vote_buffer,
            &notifiers,
            &mut None,
            &mut latest_vote_slot_per_validator,
        )
        .unwrap();

        // Should be no updates since everything was ignored
        assert!(vote_tracker.slot_vote_trackers.read().unwrap().is_empty());
    }

    fn send_vote_txs(
        gossip_vote_slots: Vec<Slot>,
        replay_vote_slots: Vec<Slot>,
        validator_voting_keypairs: &[ValidatorVoteKeypairs],
        switch_proof_hash: Option<Hash>,
        votes_sender: &VerifiedVoteTransactionsSender,
        replay_votes_sender: &ReplayVoteSender,
    ) {
        let tower_sync = TowerSync::new_from_slots(gossip_vote_slots, Hash::default(), None);
        validator_voting_keypairs.iter().for_each(|keypairs| {
            let node_keypair = &keypairs.node_keypair;
            let vote_keypair = &keypairs.vote_keypair;
            let vote_tx = vote_transaction::new_tower_sync_transaction(
                tower_sync.clone(),
                Hash::default(),
                node_keypair,
                vote_keypair,
                vote_keypair,
                switch_proof_hash,
            );
            votes_sender.send(vec![vote_tx]).unwrap();
            let replay_vote = Vote::new(replay_vote_slots.clone(), Hash::default());
            // Send same vote twice, but should only notify once
            for _ in 0..2 {
                replay_votes_sender
                    .send(ReplayVoteMessage::VerifiedExecuted((
                        vote_keypair.pubkey(),
                        VoteTransaction::from(replay_vote.clone()),
                        switch_proof_hash,
                        Signature::default(),
                    )))
                    .unwrap();
            }
        });
    }

    fn run_test_process_votes(hash: Option<Hash>) {
        // Create some voters at genesis
        // Must match `setup()`'s `vec![100; validator_voting_keypairs.len()]` stake per validator.
        let stake_per_validator = 100;
        let SetupComponents {
            vote_tracker,
            validator_voting_keypairs,
            subscriptions,
            bank: bank0,
            ..
        } = setup();
        let (votes_txs_sender, votes_txs_receiver) = bounded(1024);
        let (replay_votes_sender, replay_votes_receiver) = bounded(1024);
        let (gossip_verified_vote_hash_sender, gossip_verified_vote_hash_receiver) = bounded(1024);
        let (verified_voter_slots_sender, verified_voter_slots_receiver) = bounded(1024);
        let mut latest_vote_slot_per_validator = HashMap::new();

        let gossip_vote_slots = vec![1, 2];
        let replay_vote_slots = vec![3, 4];
        send_vote_txs(
            gossip_vote_slots.clone(),
            replay_vote_slots.clone(),
            &validator_voting_keypairs,
            hash,
            &votes_txs_sender,
            &replay_votes_sender,
        );

        // Check that all the votes were registered for each validator correctly
        let notifiers = ConfirmationNotifiers {
            gossip_verified_vote_hash_sender: gossip_verified_vote_hash_sender.clone(),
            verified_voter_slots_sender: verified_voter_slots_sender.clone(),
            rpc_subscriptions: Some(subscriptions.clone()),
            bank_notification_sender: None,
            duplicate_confirmed_slot_sender: None,
            migration_status: Arc::new(MigrationStatus::default()),
        };
        let mut replay_vote_buffer = VoteBuffer::new();
        ClusterInfoVoteListener::listen_and_confirm_votes(
            &votes_txs_receiver,
            &vote_tracker,
            &bank0,
            &replay_votes_receiver,
            &mut replay_vote_buffer,
            &notifiers,
            &mut None,
            &mut latest_vote_slot_per_validator,
        )
        .unwrap();

        let mut gossip_verified_votes: HashMap<Slot, HashMap<Hash, Vec<Pubkey>>> = HashMap::new();
        for (pubkey, slot, hash) in gossip_verified_vote_hash_receiver.try_iter() {
            // send_vote_txs() will send each vote twice, but we should only get a notification
            // once for each via this channel
            let exists = gossip_verified_votes
                .get(&slot)
                .and_then(|slot_hashes| slot_hashes.get(&hash))
                .map(|slot_hash_voters| slot_hash_voters.contains(&pubkey))
                .unwrap_or(false);
            assert!(!exists);
            gossip_verified_votes
                .entry(slot)
                .or_default()
                .entry(hash)
                .or_default()
                .push(pubkey);
        }

        // Only the last vote in the `gossip_vote` set should count towards
        // the `voted_hash_updates` set. Important to note here that replay votes
        // should not count
        let last_gossip_vote_slot = *gossip_vote_slots.last().unwrap();
        assert_eq!(gossip_verified_votes.len(), 1);
        let slot_hashes = gossip_verified_votes.get(&last_gossip_vote_slot).unwrap();
        assert_eq!(slot_hashes.len(), 1);
        let slot_hash_votes = slot_hashes.get(&Hash::default()).unwrap();
        assert_eq!(slot_hash_votes.len(), validator_voting_keypairs.len());
        for voting_keypairs in &validator_voting_keypairs {
            let pubkey = voting_keypairs.vote_keypair.pubkey();
            assert!(slot_hash_votes.contains(&pubkey));
        }

        // Check that the received votes were pushed to other components
        // subscribing via `verified_voter_slots_receiver`
        let all_expected_slots: BTreeSet<_> = gossip_vote_slots
            .clone()
            .into_iter()
            .chain(replay_vote_slots.clone())
            .collect();
        let mut pubkey_to_slots: HashMap<Pubkey, BTreeSet<Slot>> = HashMap::new();
        for (received_pubkey, new_slots) in verified_voter_slots_receiver.try_iter() {
            let already_received_slots = pubkey_to_slots.entry(received_pubkey).or_default();
            for new_slot in new_slots {
                // `new_slot` should only be received once
                assert!(already_received_slots.insert(new_slot));
            }
        }
        assert_eq!(pubkey_to_slots.len(), validator_voting_keypairs.len());
        for keypairs in &validator_voting_keypairs {
            assert_eq!(
                *pubkey_to_slots
                    .get(&keypairs.vote_keypair.pubkey())
                    .unwrap(),
                all_expected_slots
            );
        }

        // Check the vote trackers were updated correctly
        for vote_slot in all_expected_slots {
            let slot_vote_tracker = vote_tracker.get_slot_vote_tracker(vote_slot).unwrap();
            let r_slot_vote_tracker = slot_vote_tracker.read().unwrap();
            for voting_keypairs in &validator_voting_keypairs {
                let pubkey = voting_keypairs.vote_keypair.pubkey();
                assert!(r_slot_vote_tracker.voted.contains_key(&pubkey));
                assert!(
                    r_slot_vote_tracker
                        .voted_slot_updates
                        .as_ref()
                        .unwrap()
                        .contains(&Arc::new(pubkey))
                );
                // Only the last vote in the stack of `gossip_vote` and `replay_vote_slots`
                // should count towards the `optimistic` vote set,
                let optimistic_votes_tracker =
                    r_slot_vote_tracker.optimistic_votes_tracker(&Hash::default());
                if vote_slot == *gossip_vote_slots.last().unwrap()
                    || vote_slot == *replay_vote_slots.last().unwrap()
                {
                    let optimistic_votes_tracker = optimistic_votes_tracker.unwrap();
                    assert!(optimistic_votes_tracker.voted().contains(&pubkey));
                    assert_eq!(
                        optimistic_votes_tracker.stake(),
                        stake_per_validator * validator_voting_keypairs.len() as u64
                    );
                } else {
                    assert!(optimistic_votes_tracker.is_none())
                }
            }
        }
    }

    #[test]
    fn test_process_votes1() {
        run_test_process_votes(None);
        run_test_process_votes(Some(Hash::default()));
    }

    #[test]
    fn test_process_votes2() {
        // Create some voters at genesis
        let stake_per_validator = 100;
        let SetupComponents {
            vote_tracker,
            validator_voting_keypairs,
            subscriptions,
            bank: bank0,
            ..
        } = setup();

        // Send some votes to process
        let (votes_txs_sender, votes_txs_receiver) = bounded(1024);
        let (gossip_verified_vote_hash_sender, _gossip_verified_vote_hash_receiver) = bounded(1024);
        let (verified_voter_slots_sender, verified_voter_slots_receiver) = bounded(1024);
        let (_replay_votes_sender, replay_votes_receiver) = bounded(1024);
        let mut latest_vote_slot_per_validator = HashMap::new();

        let mut expected_voter_slots = vec![];
        let num_voters_per_slot = 2;
        let bank_hash = Hash::default();
        for (i, keyset) in validator_voting_keypairs
            .chunks(num_voters_per_slot)
            .enumerate()
        {
            let validator_votes: Vec<_> = keyset
                .iter()
                .map(|keypairs| {
                    let node_keypair = &keypairs.node_keypair;
                    let vote_keypair = &keypairs.vote_keypair;
                    expected_voter_slots.push((vote_keypair.pubkey(), vec![i as Slot + 1]));
                    let tower_sync =
                        TowerSync::new_from_slots(vec![(i as u64 + 1)], bank_hash, None);
                    vote_transaction::new_tower_sync_transaction(
                        tower_sync,
                        Hash::default(),
                        node_keypair,
                        vote_keypair,
                        vote_keypair,
                        None,
                    )
                })
                .collect();
            votes_txs_sender.send(validator_votes).unwrap();
        }

        // Read and process votes from channel `votes_receiver`
        let notifiers = ConfirmationNotifiers {
            gossip_verified_vote_hash_sender: gossip_verified_vote_hash_sender.clone(),
            verified_voter_slots_sender: verified_voter_slots_sender.clone(),
            rpc_subscriptions: Some(subscriptions.clone()),
            bank_notification_sender: None,
            duplicate_confirmed_slot_sender: None,
            migration_status: Arc::new(MigrationStatus::default()),
        };
        let mut replay_vote_buffer = VoteBuffer::new();
        ClusterInfoVoteListener::listen_and_confirm_votes(
            &votes_txs_receiver,
            &vote_tracker,
            &bank0,
            &replay_votes_receiver,
            &mut replay_vote_buffer,
            &notifiers,
            &mut None,
            &mut latest_vote_slot_per_validator,
        )
        .unwrap();

        // Check that the received votes were pushed to other components
        // subscribing via a channel
        let received_voter_slots = verified_voter_slots_receiver.try_iter().collect::<Vec<_>>();
        assert_eq!(received_voter_slots.len(), validator_voting_keypairs.len());
        for (e, r) in expected_voter_slots.iter().zip(received_voter_slots.iter()) {
            assert_eq!(e, r);
        }

        // Check that all the votes were registered for each validator correctly
        for (i, keyset) in validator_voting_keypairs.chunks(2).enumerate() {
            let slot_vote_tracker = vote_tracker.get_slot_vote_tracker(i as u64 + 1).unwrap();
            let r_slot_vote_tracker = &slot_vote_tracker.read().unwrap();
            for voting_keypairs in keyset {
                let pubkey = voting_keypairs.vote_keypair.pubkey();
                assert!(r_slot_vote_tracker.voted.contains_key(&pubkey));
                assert!(
                    r_slot_vote_tracker
                        .voted_slot_updates
                        .as_ref()
                        .unwrap()
                        .contains(&Arc::new(pubkey))
                );
                // All the votes were single votes, so they should all count towards
                // the optimistic confirmation vote set
                let optimistic_votes_tracker = r_slot_vote_tracker
                    .optimistic_votes_tracker(&bank_hash)
                    .unwrap();
                assert!(optimistic_votes_tracker.voted().contains(&pubkey));
                assert_eq!(
                    optimistic_votes_tracker.stake(),
                    num_voters_per_slot as u64 * stake_per_validator
                );
            }
        }
    }

    fn run_test_process_votes3(switch_proof_hash: Option<Hash>) {
        let (votes_sender, votes_receiver) = bounded(1024);
        let (verified_voter_slots_sender, _verified_voter_slots_receiver) = bounded(1024);
        let (gossip_verified_vote_hash_sender, _gossip_verified_vote_hash_receiver) = bounded(1024);
        let (replay_votes_sender, replay_votes_receiver): (ReplayVoteSender, ReplayVoteReceiver) =
            bounded(1024);
        let mut latest_vote_slot_per_validator = HashMap::new();

        let vote_slot = 1;
        let vote_bank_hash = Hash::default();
        // Events:
        // 0: Send gossip vote
        // 1: Send replay vote
        // 2: Send both
        let ordered_events = vec![
            vec![0],
            vec![1],
            vec![0, 1],
            vec![1, 0],
            vec![2],
            vec![0, 1, 2],
            vec![1, 0, 2],
            vec![0, 1, 2, 0, 1, 2],
        ];
        for events in ordered_events {
            let SetupComponents {
                vote_tracker,
                bank,
                validator_voting_keypairs,
                subscriptions,
                ..
            } = setup();
            let node_keypair = &validator_voting_keypairs[0].node_keypair;
            let vote_keypair = &validator_voting_keypairs[0].vote_keypair;
            let notifiers = ConfirmationNotifiers {
                gossip_verified_vote_hash_sender: gossip_verified_vote_hash_sender.clone(),
                verified_voter_slots_sender: verified_voter_slots_sender.clone(),
                rpc_subscriptions: Some(subscriptions.clone()),
                bank_notification_sender: None,
                duplicate_confirmed_slot_sender: None,
                migration_status: Arc::new(MigrationStatus::default()),
            };
            let mut replay_vote_buffer = VoteBuffer::new();
            for &e in &events {
                if e == 0 || e == 2 {
                    // Create vote transaction
                    let tower_sync =
                        TowerSync::new_from_slots(vec![(vote_slot)], vote_bank_hash, None);
                    let vote_tx = vote_transaction::new_tower_sync_transaction(
                        tower_sync,
                        Hash::default(),
                        node_keypair,
                        vote_keypair,
                        vote_keypair,
                        switch_proof_hash,
                    );
                    votes_sender.send(vec![vote_tx.clone()]).unwrap();
                }
                if e == 1 || e == 2 {
                    replay_votes_sender
                        .send(ReplayVoteMessage::VerifiedExecuted((
                            vote_keypair.pubkey(),
                            VoteTransaction::from(Vote::new(vec![vote_slot], Hash::default())),
                            switch_proof_hash,
                            Signature::default(),
                        )))
                        .unwrap();
                }
                let _ = ClusterInfoVoteListener::listen_and_confirm_votes(
                    &votes_receiver,
                    &vote_tracker,
                    &bank,
                    &replay_votes_receiver,
                    &mut replay_vote_buffer,
                    &notifiers,
                    &mut None,
                    &mut latest_vote_slot_per_validator,
                );
            }
            let slot_vote_tracker = vote_tracker.get_slot_vote_tracker(vote_slot).unwrap();
            let r_slot_vote_tracker = &slot_vote_tracker.read().unwrap();

            assert_eq!(
                r_slot_vote_tracker
                    .optimistic_votes_tracker(&vote_bank_hash)
                    .unwrap()
                    .stake(),
                100
            );
            if events == vec![1] {
                // Check `gossip_only_stake` is not incremented
                assert_eq!(r_slot_vote_tracker.gossip_only_stake, 0);
            } else {
                // Check that both the `gossip_only_stake` and `total_voted_stake` both
                // increased
                assert_eq!(r_slot_vote_tracker.gossip_only_stake, 100);
            }
        }
    }

    #[test]
    fn test_run_test_process_votes3() {
        run_test_process_votes3(None);
        run_test_process_votes3(Some(Hash::default()));
    }

    fn sample_parsed_vote(slot: Slot) -> ParsedVote {
        (
            Pubkey::new_unique(),
            VoteTransaction::from(Vote::new(vec![slot], Hash::default())),
            None,
            Signature::default(),
        )
    }

    #[test]
    fn test_replay_vote_buffer_gates_unverified_votes() {
        let replay_bank_id = 1;
        let replay_slot = 42;
        let parsed_vote = sample_parsed_vote(replay_slot);
        let message_hash = Hash::default();
        let mut replay_vote_buffer = VoteBuffer::new();

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Executed {
                replay_bank_id,
                replay_slot,
                message_hash,
                parsed_vote: parsed_vote.clone(),
            }]
            .into_iter(),
        );
        assert!(ready_votes.is_empty());
        assert_eq!(replay_vote_buffer.bank_votes.len(), 1);
        assert!(matches!(
            replay_vote_buffer.bank_votes.get(&replay_bank_id),
            Some(BankVoteBuffer::Active { .. })
        ));

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Verified {
                replay_bank_id,
                replay_slot,
                message_hashes: vec![message_hash],
            }]
            .into_iter(),
        );
        assert_eq!(ready_votes, vec![parsed_vote]);
        assert!(replay_vote_buffer.bank_votes.is_empty());
    }

    #[test]
    fn test_replay_vote_buffer_gates_unexecuted_votes() {
        let replay_bank_id = 3;
        let replay_slot = 77;
        let parsed_vote = sample_parsed_vote(replay_slot);
        let message_hash = Hash::default();
        let mut replay_vote_buffer = VoteBuffer::new();

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Verified {
                replay_bank_id,
                replay_slot,
                message_hashes: vec![message_hash],
            }]
            .into_iter(),
        );
        assert!(ready_votes.is_empty());
        assert_eq!(replay_vote_buffer.bank_votes.len(), 1);
        assert!(matches!(
            replay_vote_buffer.bank_votes.get(&replay_bank_id),
            Some(BankVoteBuffer::Active { .. })
        ));

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Executed {
                replay_bank_id,
                replay_slot,
                message_hash,
                parsed_vote: parsed_vote.clone(),
            }]
            .into_iter(),
        );
        assert_eq!(ready_votes, vec![parsed_vote]);
        assert!(replay_vote_buffer.bank_votes.is_empty());
    }

    #[test]
    fn test_replay_vote_buffer_same_signature_different_tx() {
        let replay_bank_id = 4;
        let replay_slot = 88;
        let valid_vote = sample_parsed_vote(replay_slot);
        let spoofed_vote = sample_parsed_vote(replay_slot + 1);
        assert_eq!(valid_vote.3, spoofed_vote.3);

        let valid_message_hash = Hash::new_from_array([1; 32]);
        let spoofed_message_hash = Hash::new_from_array([2; 32]);
        let mut replay_vote_buffer = VoteBuffer::new();

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![
                ReplayVoteMessage::Executed {
                    replay_bank_id,
                    replay_slot,
                    message_hash: spoofed_message_hash,
                    parsed_vote: spoofed_vote,
                },
                ReplayVoteMessage::Verified {
                    replay_bank_id,
                    replay_slot,
                    message_hashes: vec![valid_message_hash],
                },
            ]
            .into_iter(),
        );
        assert!(ready_votes.is_empty());
        assert_matches!(
            replay_vote_buffer.bank_votes.get(&replay_bank_id),
            Some(BankVoteBuffer::Active { votes, .. }) if votes.len() == 2
        );

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Executed {
                replay_bank_id,
                replay_slot,
                message_hash: valid_message_hash,
                parsed_vote: valid_vote.clone(),
            }]
            .into_iter(),
        );
        assert_eq!(ready_votes, vec![valid_vote]);
    }

    #[test]
    fn test_replay_vote_buffer_invalid_bank_drops_late_messages() {
        let replay_bank_id = 2;
        let replay_slot = 100;
        let parsed_vote = sample_parsed_vote(replay_slot);
        let message_hash = Hash::default();
        let mut replay_vote_buffer = VoteBuffer::new();

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Verified {
                replay_bank_id,
                replay_slot,
                message_hashes: vec![message_hash],
            }]
            .into_iter(),
        );
        assert!(ready_votes.is_empty());
        assert_eq!(replay_vote_buffer.bank_votes.len(), 1);
        assert!(matches!(
            replay_vote_buffer.bank_votes.get(&replay_bank_id),
            Some(BankVoteBuffer::Active { .. })
        ));

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::InvalidBank {
                replay_bank_id,
                replay_slot,
            }]
            .into_iter(),
        );
        assert!(ready_votes.is_empty());
        assert_eq!(replay_vote_buffer.bank_votes.len(), 1);
        assert!(matches!(
            replay_vote_buffer.bank_votes.get(&replay_bank_id),
            Some(BankVoteBuffer::Invalid {
                slot: invalid_slot
            }) if *invalid_slot == replay_slot
        ));

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Executed {
                replay_bank_id,
                replay_slot,
                message_hash,
                parsed_vote: parsed_vote.clone(),
            }]
            .into_iter(),
        );
        assert!(ready_votes.is_empty());
        assert_eq!(replay_vote_buffer.bank_votes.len(), 1);
        assert!(matches!(
            replay_vote_buffer.bank_votes.get(&replay_bank_id),
            Some(BankVoteBuffer::Invalid {
                slot: invalid_slot
            }) if *invalid_slot == replay_slot
        ));
    }

    #[test]
    fn test_replay_vote_buffer_bank_complete_clears_pending_state() {
        let replay_bank_id = 5;
        let replay_slot = 123;
        let parsed_vote = sample_parsed_vote(replay_slot);
        let message_hash = Hash::default();
        let mut replay_vote_buffer = VoteBuffer::new();

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Executed {
                replay_bank_id,
                replay_slot,
                message_hash,
                parsed_vote,
            }]
            .into_iter(),
        );
        assert!(ready_votes.is_empty());
        assert_eq!(replay_vote_buffer.bank_votes.len(), 1);
        assert_matches!(
            replay_vote_buffer.bank_votes.get(&replay_bank_id),
            Some(BankVoteBuffer::Active { .. })
        );

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::BankComplete {
                replay_bank_id,
                replay_slot,
            }]
            .into_iter(),
        );
        assert!(ready_votes.is_empty());
        assert!(replay_vote_buffer.bank_votes.is_empty());
    }

    #[test]
    fn test_replay_vote_buffer_processes_verified_message_hash() {
        let replay_bank_id = 6;
        let replay_slot = 124;
        let parsed_vote = sample_parsed_vote(replay_slot);
        let message_hash = Hash::default();
        let mut replay_vote_buffer = VoteBuffer::new();

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Executed {
                replay_bank_id,
                replay_slot,
                message_hash,
                parsed_vote: parsed_vote.clone(),
            }]
            .into_iter(),
        );
        assert!(ready_votes.is_empty());
        assert_eq!(replay_vote_buffer.bank_votes.len(), 1);
        assert_matches!(
            replay_vote_buffer.bank_votes.get(&replay_bank_id),
            Some(BankVoteBuffer::Active { .. })
        );

        let ready_votes = replay_vote_buffer.receive_and_collect_ready_votes(
            vec![ReplayVoteMessage::Verified {
                replay_bank_id,
                replay_slot,
                message_hashes: vec![message_hash],
            }]
            .into_iter(),
        );
        assert_eq!(ready_votes, vec![parsed_vote]);
        assert!(replay_vote_buffer.bank_votes.is_empty());
    }

    #[test]
    fn test_vote_tracker_references() {
        // Create some voters at genesis
        let validator_keypairs: Vec<_> =
            (0..2).map(|_| ValidatorVoteKeypairs::new_rand()).collect();

        let GenesisConfigInfo { genesis_config, .. } =
            genesis_utils::create_genesis_config_with_vote_accounts(
                10_000,
                &validator_keypairs,
                vec![100; validator_keypairs.len()],
            );
        let bank = Bank::new_for_tests(&genesis_config);
        let exit = Arc::new(AtomicBool::new(false));
        let (bank, bank_forks) = bank.wrap_with_bank_forks_for_tests();
        let vote_tracker = VoteTracker::default();
        let optimistically_confirmed_bank =
            OptimisticallyConfirmedBank::locked_from_bank_forks_root(&bank_forks);
        let max_complete_transaction_status_slot = Arc::new(AtomicU64::default());
        let subscriptions = Arc::new(RpcSubscriptions::new_for_tests(
            exit,
            max_complete_transaction_status_slot,
            bank_forks.clone(),
            Arc::new(RwLock::new(BlockCommitmentCache::default())),
            optimistically_confirmed_bank,
        ));
        let mut latest_vote_slot_per_validator = HashMap::new();

        // Send a vote to process, should add a reference to the pubkey for that voter
        // in the tracker
        let validator0_keypairs = &validator_keypairs[0];
        let voted_slot = bank.slot() + 1;
        let vote_tx = vec![vote_transaction::new_tower_sync_transaction(
            // Must vote > root to be processed
            TowerSync::from(vec![(voted_slot, 1)]),
            Hash::default(),
            &validator0_keypairs.node_keypair,
            &validator0_keypairs.vote_keypair,
            &validator0_keypairs.vote_keypair,
            None,
        )];

        let (verified_voter_slots_sender, _verified_voter_slots_receiver) = bounded(1024);
        let (gossip_verified_vote_hash_sender, _gossip_verified_vote_hash_receiver) = bounded(1024);
        let notifiers = ConfirmationNotifiers {
            gossip_verified_vote_hash_sender: gossip_verified_vote_hash_sender.clone(),
            verified_voter_slots_sender: verified_voter_slots_sender.clone(),
            rpc_subscriptions: Some(subscriptions.clone()),
            bank_notification_sender: None,
            duplicate_confirmed_slot_sender: None,
            migration_status: Arc::new(MigrationStatus::default()),
        };
        ClusterInfoVoteListener::filter_and_confirm_with_new_votes(
            &vote_tracker,
            vote_tx,
            // Add gossip vote for same slot, should not affect outcome
            vec![(
                validator0_keypairs.vote_keypair.pubkey(),
                VoteTransaction::from(Vote::new(vec![voted_slot], Hash::default())),
                None,
                Signature::default(),
            )],
            &bank,
            &notifiers,
            &mut None,
            &mut latest_vote_slot_per_validator,
        );

        // Setup next epoch
        let old_epoch = bank.get_leader_schedule_epoch(bank.slot());
        let new_epoch = old_epoch + 1;

        // Test with votes across two epochs
        let first_slot_in_new_epoch = bank.epoch_schedule().get_first_slot_in_epoch(new_epoch);

        // Make 2 new votes in two different epochs for the same pubkey,
        // the ref count should go up by 3 * ref_count_per_vote
        // Add 1 vote through the replay channel for a different pubkey,
        // ref count should equal `current_ref_count` for that pubkey.
        let vote_txs: Vec<_> = [first_slot_in_new_epoch - 1, first_slot_in_new_epoch]
            .iter()
            .map(|slot| {
                vote_transaction::new_tower_sync_transaction(
                    // Must vote > root to be processed
                    TowerSync::from(vec![(*slot, 1)]),
                    Hash::default(),
                    &validator0_keypairs.node_keypair,
                    &validator0_keypairs.vote_keypair,
                    &validator0_keypairs.vote_keypair,
                    None,
                )
            })
            .collect();

        let new_root_bank =
            Bank::new_from_parent(bank, SlotLeader::default(), first_slot_in_new_epoch - 2);
        let notifiers = ConfirmationNotifiers {
            gossip_verified_vote_hash_sender: gossip_verified_vote_hash_sender.clone(),
            verified_voter_slots_sender: verified_voter_slots_sender.clone(),
            rpc_subscriptions: Some(subscriptions.clone()),
            bank_notification_sender: None,
            duplicate_confirmed_slot_sender: None,
            migration_status: Arc::new(MigrationStatus::default()),
        };
        ClusterInfoVoteListener::filter_and_confirm_with_new_votes(
            &vote_tracker,
            vote_txs,
            vec![(
                validator_keypairs[1].vote_keypair.pubkey(),
                VoteTransaction::from(Vote::new(vec![first_slot_in_new_epoch], Hash::default())),
                None,
                Signature::default(),
            )],
            &new_root_bank,
            &notifiers,
            &mut None,
            &mut latest_vote_slot_per_validator,
        );
    }

    struct SetupComponents {
        vote_tracker: Arc<VoteTracker>,
        bank: Arc<Bank>,
        bank_forks: Arc<RwLock<BankForks>>,
        validator_voting_keypairs: Vec<ValidatorVoteKeypairs>,
        subscriptions: Arc<RpcSubscriptions>,
    }

    fn setup() -> SetupComponents {
        let validator_voting_keypairs: Vec<_> =
            (0..10).map(|_| ValidatorVoteKeypairs::new_rand()).collect();
        let GenesisConfigInfo { genesis_config, .. } =
            genesis_utils::create_genesis_config_with_vote_accounts(
                10_000,
                &validator_voting_keypairs,
                vec![100; validator_voting_keypairs.len()],
            );
        let bank = Bank::new_for_tests(&genesis_config);
        let vote_tracker = VoteTracker::default();
        let exit = Arc::new(AtomicBool::new(false));
        let (bank, bank_forks) = bank.wrap_with_bank_forks_for_tests();
        let optimistically_confirmed_bank =
            OptimisticallyConfirmedBank::locked_from_bank_forks_root(&bank_forks);
        let max_complete_transaction_status_slot = Arc::new(AtomicU64::default());
        let subscriptions = Arc::new(RpcSubscriptions::new_for_tests(
            exit,
            max_complete_transaction_status_slot,
            bank_forks.clone(),
            Arc::new(RwLock::new(BlockCommitmentCache::default())),
            optimistically_confirmed_bank,
        ));

        SetupComponents {
            vote_tracker: Arc::new(vote_tracker),
            bank,
            bank_forks,
            validator_voting_keypairs,
            subscriptions,
        }
    }

    #[test]
    fn test_verify_votes_empty() {
        agave_logger::setup();
        let GenesisConfigInfo { genesis_config, .. } = create_genesis_config(10_000);
        let bank = Bank::new_for_tests(&genesis_config);
        let bank_forks = BankForks::new_rw_arc(bank);
        let sharable_banks = bank_forks.read().unwrap().sharable_banks();
        let votes = vec![];
        let (vote_txs, packet_batches) = test_verify_votes(votes, &sharable_banks);
        assert!(vote_txs.is_empty());
        assert!(packet_batches.is_empty());
    }

    fn test_vote_tx(
        validator_vote_keypairs: Option<&ValidatorVoteKeypairs>,
        hash: Option<Hash>,
    ) -> Transaction {
        let other = ValidatorVoteKeypairs::new_rand();
        let validator_vote_keypair = validator_vote_keypairs.unwrap_or(&other);
        // TODO authorized_voter_keypair should be different from vote-keypair
        // but that is what create_genesis_... currently generates.
        vote_transaction::new_tower_sync_transaction(
            TowerSync::from(vec![(0, 1)]),
            Hash::default(),
            &validator_vote_keypair.node_keypair,
            &validator_vote_keypair.vote_keypair,
            &validator_vote_keypair.vote_keypair, // authorized_voter_keypair
            hash,
        )
    }

    fn run_test_verify_votes_1_pass(hash: Option<Hash>) {
        let voting_keypairs: Vec<_> = repeat_with(ValidatorVoteKeypairs::new_rand)
            .take(10)
            .collect();
        let GenesisConfigInfo { genesis_config, .. } =
            genesis_utils::create_genesis_config_with_vote_accounts(
                10_000, // mint_lamports
                &voting_keypairs,
                vec![100; voting_keypairs.len()], // stakes
            );
        let bank = Bank::new_for_tests(&genesis_config);
        let bank_forks = BankForks::new_rw_arc(bank);
        let sharable_banks = bank_forks.read().unwrap().sharable_banks();
        let vote_tx = test_vote_tx(voting_keypairs.first(), hash);
        let votes = vec![vote_tx];
        let (vote_txs, packet_batches) = test_verify_votes(votes, &sharable_banks);
        assert_eq!(vote_txs.len(), 1);
        assert_eq!(packet_batches.len(), 1);
    }

    #[test]
    fn test_verify_votes_1_pass() {
        run_test_verify_votes_1_pass(None);
        run_test_verify_votes_1_pass(Some(Hash::default()));
    }

    fn run_test_bad_vote(hash: Option<Hash>) {
        let voting_keypairs: Vec<_> = repeat_with(ValidatorVoteKeypairs::new_rand)
            .take(10)
            .collect();
        let GenesisConfigInfo { genesis_config, .. } =
            genesis_utils::create_genesis_config_with_vote_accounts(
                10_000, // mint_lamports
                &voting_keypairs,
                vec![100; voting_keypairs.len()], // stakes
            );
        let bank = Bank::new_for_tests(&genesis_config);
        let bank_forks = BankForks::new_rw_arc(bank);
        let sharable_banks = bank_forks.read().unwrap().sharable_banks();
        let vote_tx = test_vote_tx(voting_keypairs.first(), hash);
        let mut bad_vote = vote_tx.clone();
        bad_vote.signatures[0] = Signature::default();
        let votes = vec![vote_tx.clone(), bad_vote, vote_tx];
        let (vote_txs, packet_batches) = test_verify_votes(votes, &sharable_banks);
        assert_eq!(vote_txs.len(), 2);
        assert_eq!(packet_batches.len(), 2);
    }

    #[test]
    fn test_sum_stake() {
        let SetupComponents {
            bank,
            validator_voting_keypairs,
            ..
        } = setup();
        let vote_keypair = &validator_voting_keypairs[0].vote_keypair;
        let epoch_stakes = bank.epoch_stakes(bank.epoch()).unwrap();
        let mut gossip_only_stake = 0;

        ClusterInfoVoteListener::sum_stake(
            &mut gossip_only_stake,
            Some(epoch_stakes),
            &vote_keypair.pubkey(),
        );
        assert_eq!(gossip_only_stake, 100);
    }

    #[test]
    fn test_bad_vote() {
        run_test_bad_vote(None);
        run_test_bad_vote(Some(Hash::default()));
    }

    #[test]
    fn test_track_new_votes_filter() {
        let validator_keypairs: Vec<_> =
            (0..2).map(|_| ValidatorVoteKeypairs::new_rand()).collect();

        let GenesisConfigInfo { genesis_config, .. } =
            genesis_utils::create_genesis_config_with_vote_accounts(
                10_000,
                &validator_keypairs,
                vec![100; validator_keypairs.len()],
            );
        let bank = Bank::new_for_tests(&genesis_config);
        let exit = Arc::new(AtomicBool::new(false));
        let (bank, bank_forks) = bank.wrap_with_bank_forks_for_tests();
        let vote_tracker = VoteTracker::default();
        let optimistically_confirmed_bank =
            OptimisticallyConfirmedBank::locked_from_bank_forks_root(&bank_forks);
        let max_complete_transaction_status_slot = Arc::new(AtomicU64::default());
        let subscriptions = Arc::new(RpcSubscriptions::new_for_tests(
            exit,
            max_complete_transaction_status_slot,
            bank_forks.clone(),
            Arc::new(RwLock::new(BlockCommitmentCache::default())),
            optimistically_confirmed_bank,
        ));
        let mut latest_vote_slot_per_validator = HashMap::new();

        let (verified_voter_slots_sender, _verified_voter_slots_receiver) = bounded(1024);
        let (gossip_verified_vote_hash_sender, _gossip_verified_vote_hash_receiver) = bounded(1024);
        let mut diff = HashMap::default();
        let mut new_optimistic_confirmed_slots = vec![];

        let validator0_keypairs = &validator_keypairs[0];
        let (vote_pubkey, vote, _, signature) =
            vote_parser::parse_vote_transaction(&vote_transaction::new_tower_sync_transaction(
                TowerSync::from(vec![(1, 3), (2, 2), (6, 1)]),
                Hash::default(),
                &validator0_keypairs.node_keypair,
                &validator0_keypairs.vote_keypair,
                &validator0_keypairs.vote_keypair,
                None,
            ))
            .unwrap();

        let notifiers = ConfirmationNotifiers {
            gossip_verified_vote_hash_sender: gossip_verified_vote_hash_sender.clone(),
            verified_voter_slots_sender: verified_voter_slots_sender.clone(),
            rpc_subscriptions: Some(subscriptions.clone()),
            bank_notification_sender: None,
            duplicate_confirmed_slot_sender: None,
            migration_status: Arc::new(MigrationStatus::default()),
        };
        ClusterInfoVoteListener::track_new_votes_and_notify_confirmations(
            vote,
            &vote_pubkey,
            signature,
            &vote_tracker,
            &bank,
            &notifiers,
            &mut diff,
            &mut new_optimistic_confirmed_slots,
            true, /* is gossip */
            &mut latest_vote_slot_per_validator,
        );
        assert_eq!(diff.keys().copied().sorted().collect_vec(), vec![1, 2, 6]);

        // Vote on a new slot, only those later than 6 should show up. 4 is skipped.
        diff.clear();
        let (vote_pubkey, vote, _, signature) =
            vote_parser::parse_vote_transaction(&vote_transaction::new_tower_sync_transaction(
                TowerSync::from(vec![(1, 6), (2, 5), (3, 4), (4, 3), (7, 2), (8, 1)]),
                Hash::default(),
                &validator0_keypairs.node_keypair,
                &validator0_keypairs.vote_keypair,
                &validator0_keypairs.vote_keypair,
                None,
            ))
            .unwrap();

        ClusterInfoVoteListener::track_new_votes_and_notify_confirmations(
            vote,
            &vote_pubkey,
            signature,
            &vote_tracker,
            &bank,
            &notifiers,
            &mut diff,
            &mut new_optimistic_confirmed_slots,
            true, /* is gossip */
            &mut latest_vote_slot_per_validator,
        );
        assert_eq!(diff.keys().copied().sorted().collect_vec(), vec![7, 8]);
    }
}
