//! Runs the natively compiled Verity program (and, through [`anchor_builtin!`], any other Anchor program such as
//! the example consumer) as a builtin inside Agave's real runtime (program-test 4.2.2 and the JSON-RPC test
//! validator): shared by `verity-tests` and `verity-localnet`.
//!
//! Three gaps are bridged here (see shared/SOLANA-TOOLCHAIN.md in the steering notes):
//! 1. Anchor's generated `verity::entry` has tied lifetimes, so [`verity_process_instruction`] re-borrows the
//!    account slice to fit the runtime's `ProcessInstruction` signature.
//! 2. Anchor (solana-v3) reads syscall stubs from solana-sysvar 3.x while program-test installs its stubs into
//!    solana-sysvar 4.x. [`SysvarBridge`] implements the 3.x `SyscallStubs` and forwards CPI, logs, return data,
//!    stack height and sibling instructions to the 4.x stubs. Without it a CPI silently does nothing.
//! 3. solana-sysvar 4.x cannot answer `Sysvar::get()` off-chain, so [`VerityBuiltin`] records the current
//!    `InvokeContext` in a thread-local and the bridge answers sysvar reads from its sysvar cache.
use {
    anchor_lang::{
        prelude::{AccountInfo, Clock, EpochSchedule, Pubkey, Rent},
        solana_program::program_error::ProgramResult,
    },
    solana_program_runtime::{solana_sbpf::vm::ContextObject, stable_log},
    solana_program_test::{
        invoke_builtin_function, BuiltinFunctionDefinition, EbpfError, EncryptedHostAddressToEbpfVm, InvokeContext,
    },
    solana_sysvar_v3::program_stubs::SyscallStubs as SyscallStubsV3,
    solana_sysvar_v4::program_stubs as stubs_v4,
    std::{cell::Cell, sync::Once},
};

/// The `ProcessInstruction`-shaped entry point of the Verity program.
pub fn verity_process_instruction(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    // SAFETY: `verity::entry` ties the slice lifetime to the `AccountInfo` lifetime parameter. The account infos
    // live in the runtime's parameter buffer for the whole instruction, which outlives this call.
    let accounts: &[AccountInfo<'_>] = unsafe { std::mem::transmute(accounts) };
    verity::entry(program_id, accounts, data)
}

thread_local! {
    /// Address of the `InvokeContext` executing the current builtin instruction on this thread.
    static CURRENT_INVOKE_CONTEXT: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` with the `InvokeContext` recorded by [`VerityBuiltin`], or returns `None` outside an instruction.
fn with_invoke_context<R>(f: impl FnOnce(&mut InvokeContext<'_, '_>) -> R) -> Option<R> {
    let addr = CURRENT_INVOKE_CONTEXT.with(Cell::get);
    if addr == 0 {
        return None;
    }
    // SAFETY: the address was taken from the live `&mut InvokeContext` of the instruction being executed on this
    // thread (set in `VerityBuiltin::vm` before the program runs); stubs are only called from inside it.
    let ctx = unsafe { &mut *std::ptr::with_exposed_provenance_mut::<InvokeContext<'_, '_>>(addr) };
    Some(f(ctx))
}

/// The Verity builtin: program-test's `processor!` plus recording of the current `InvokeContext`.
pub struct VerityBuiltin;

impl BuiltinFunctionDefinition<InvokeContext<'_, '_>> for VerityBuiltin {
    type Error = Box<dyn std::error::Error>;

    fn rust(
        _: &mut InvokeContext<'_, '_>,
        _: u64,
        _: u64,
        _: u64,
        _: u64,
        _: u64,
    ) -> Result<u64, Box<dyn std::error::Error>> {
        // Only `vm` is used by the runtime for builtins registered this way (as in program-test's macro).
        Err("VerityBuiltin::rust is not an entry point".into())
    }

    fn vm(vm: EncryptedHostAddressToEbpfVm<InvokeContext<'_, '_>>, _: u64, _: u64, _: u64, _: u64, _: u64) {
        run_builtin(vm, verity_process_instruction);
    }
}

/// Runs `process` as a builtin program (program-test's `processor!` body), recording the current
/// `InvokeContext` for the sysvar bridge while it runs (restored afterwards, so nested CPIs between builtins work).
pub fn run_builtin(
    mut vm: EncryptedHostAddressToEbpfVm<InvokeContext<'_, '_>>,
    process: fn(&Pubkey, &[AccountInfo], &[u8]) -> ProgramResult,
) {
    // SAFETY: same contract as program-test's `processor!` macro.
    unsafe {
        vm.with_vm(|vm| {
            let ctx: &mut InvokeContext<'_, '_> = vm.context();
            let previous = CURRENT_INVOKE_CONTEXT.with(|c| c.replace(std::ptr::from_mut(ctx).expose_provenance()));
            let result = invoke_builtin_function(process, vm.context());
            CURRENT_INVOKE_CONTEXT.with(|c| c.set(previous));
            vm.program_result = result.map_err(EbpfError::SyscallError).into();
        });
    }
}

/// Declares a builtin for any Anchor program's generated `entry`: `anchor_builtin!(pub MyBuiltin,
/// my_process_instruction, my_program::entry)` defines the `ProcessInstruction`-shaped wrapper (re-borrowing the
/// account slice as [`verity_process_instruction`] does) and a `BuiltinFunctionDefinition` type that runs it
/// through [`run_builtin`]. Register with `ProgramTest::add_program(name, id, Some(MyBuiltin::registerer()))`.
#[macro_export]
macro_rules! anchor_builtin {
    ($vis:vis $name:ident, $process:ident, $entry:path) => {
        /// `ProcessInstruction`-shaped entry point of the program.
        $vis fn $process(
            program_id: &$crate::reexport::Pubkey,
            accounts: &[$crate::reexport::AccountInfo],
            data: &[u8],
        ) -> $crate::reexport::ProgramResult {
            // SAFETY: the account infos live in the runtime's parameter buffer for the whole instruction.
            let accounts: &[$crate::reexport::AccountInfo<'_>] = unsafe { ::std::mem::transmute(accounts) };
            $entry(program_id, accounts, data)
        }

        /// The builtin (see `verity_native::anchor_builtin!`).
        $vis struct $name;

        impl $name {
            /// The registerer to pass to `ProgramTest::add_program` / `ProgramCacheEntry::new_builtin`.
            pub fn registerer() -> $crate::reexport::BuiltinFunctionRegisterer {
                <$name as $crate::reexport::BuiltinFunctionDefinition<_>>::register
            }
        }

        impl $crate::reexport::BuiltinFunctionDefinition<$crate::reexport::InvokeContext<'_, '_>> for $name {
            type Error = Box<dyn ::std::error::Error>;

            fn rust(
                _: &mut $crate::reexport::InvokeContext<'_, '_>,
                _: u64,
                _: u64,
                _: u64,
                _: u64,
                _: u64,
            ) -> Result<u64, Box<dyn ::std::error::Error>> {
                Err("not an entry point: builtins run through `vm`".into())
            }

            fn vm(
                vm: $crate::reexport::EncryptedHostAddressToEbpfVm<$crate::reexport::InvokeContext<'_, '_>>,
                _: u64,
                _: u64,
                _: u64,
                _: u64,
                _: u64,
            ) {
                $crate::run_builtin(vm, $process);
            }
        }
    };
}

/// What [`anchor_builtin!`] expands to needs.
pub mod reexport {
    pub use {
        anchor_lang::{
            prelude::{AccountInfo, Pubkey},
            solana_program::program_error::ProgramResult,
        },
        solana_program_runtime::invoke_context::BuiltinFunctionRegisterer,
        solana_program_test::{BuiltinFunctionDefinition, EncryptedHostAddressToEbpfVm, InvokeContext},
    };
}

/// The registerer to pass to `ProgramTest::add_program` / `ProgramCacheEntry::new_builtin`.
pub fn verity_builtin() -> solana_program_runtime::invoke_context::BuiltinFunctionRegisterer {
    <VerityBuiltin as BuiltinFunctionDefinition<_>>::register
}

/// solana-sysvar 3.x syscall stubs that forward to program-test's 4.x stubs and answer sysvars itself.
pub struct SysvarBridge;

const SUCCESS: u64 = 0;
const UNSUPPORTED_SYSVAR: u64 = solana_instruction::error::UNSUPPORTED_SYSVAR;

/// Copies `len` bytes from `offset` of the raw sysvar account data held by the runtime's sysvar cache.
fn copy_sysvar_bytes(id: &Pubkey, dst: *mut u8, offset: u64, len: u64) -> u64 {
    with_invoke_context(|ctx| {
        let Some(buf) = ctx.environment_config.sysvar_cache().sysvar_id_to_buffer(id).as_ref() else {
            return UNSUPPORTED_SYSVAR;
        };
        let (Ok(start), Ok(len)) = (usize::try_from(offset), usize::try_from(len)) else {
            return UNSUPPORTED_SYSVAR;
        };
        match start.checked_add(len) {
            Some(end) if end <= buf.len() => {
                // SAFETY: the caller provides a buffer of at least `len` bytes (sysvar get contract).
                unsafe { std::ptr::copy_nonoverlapping(buf[start..end].as_ptr(), dst, len) };
                SUCCESS
            }
            _ => UNSUPPORTED_SYSVAR,
        }
    })
    .unwrap_or(UNSUPPORTED_SYSVAR)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

impl SyscallStubsV3 for SysvarBridge {
    fn sol_log(&self, message: &str) {
        if with_invoke_context(|ctx| stable_log::program_log(&ctx.get_log_collector(), message)).is_none() {
            println!("{message}");
        }
    }

    fn sol_log_data(&self, fields: &[&[u8]]) {
        if with_invoke_context(|ctx| stable_log::program_data(&ctx.get_log_collector(), fields)).is_none() {
            stubs_v4::sol_log_data(fields);
        }
    }

    fn sol_invoke_signed(
        &self,
        instruction: &solana_instruction::Instruction,
        account_infos: &[AccountInfo],
        signers_seeds: &[&[&[u8]]],
    ) -> ProgramResult {
        stubs_v4::sol_invoke_signed(instruction, account_infos, signers_seeds)
    }

    fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
        stubs_v4::sol_get_return_data()
    }

    fn sol_set_return_data(&self, data: &[u8]) {
        stubs_v4::sol_set_return_data(data)
    }

    fn sol_get_stack_height(&self) -> u64 {
        stubs_v4::sol_get_stack_height()
    }

    fn sol_get_processed_sibling_instruction(&self, index: usize) -> Option<solana_instruction::Instruction> {
        stubs_v4::sol_get_processed_sibling_instruction(index)
    }

    fn sol_remaining_compute_units(&self) -> u64 {
        with_invoke_context(|ctx| ctx.get_remaining()).unwrap_or(0)
    }

    fn sol_get_sysvar(&self, sysvar_id_addr: *const u8, var_addr: *mut u8, offset: u64, length: u64) -> u64 {
        // SAFETY: the sysvar id pointer comes from `solana_sysvar::get_sysvar`, which passes a `&Pubkey`.
        let id = unsafe { &*(sysvar_id_addr as *const Pubkey) };
        copy_sysvar_bytes(id, var_addr, offset, length)
    }

    fn sol_get_clock_sysvar(&self, var_addr: *mut u8) -> u64 {
        let clock = with_invoke_context(|ctx| ctx.environment_config.sysvar_cache().get_clock().ok()).flatten();
        match clock {
            Some(c) => {
                let value = Clock {
                    slot: c.slot,
                    epoch_start_timestamp: c.epoch_start_timestamp,
                    epoch: c.epoch,
                    leader_schedule_epoch: c.leader_schedule_epoch,
                    unix_timestamp: c.unix_timestamp,
                };
                // SAFETY: `impl_sysvar_get!` passes a pointer to a `Clock` of this crate's type.
                unsafe { *(var_addr as *mut Clock) = value };
                SUCCESS
            }
            None => UNSUPPORTED_SYSVAR,
        }
    }

    fn sol_get_rent_sysvar(&self, var_addr: *mut u8) -> u64 {
        // Serialized Rent: lamports_per_byte(_year) u64, exemption_threshold f64 (8 bytes), burn_percent u8.
        let raw = with_invoke_context(|ctx| {
            ctx.environment_config.sysvar_cache().sysvar_id_to_buffer(&solana_sdk_ids::sysvar::rent::ID).clone()
        })
        .flatten();
        let Some(raw) = raw else { return UNSUPPORTED_SYSVAR };
        let (Some(per_byte), Some(threshold), Some(&burn)) = (u64_at(&raw, 0), u64_at(&raw, 8), raw.get(16)) else {
            return UNSUPPORTED_SYSVAR;
        };
        #[allow(deprecated)]
        let rent = Rent {
            lamports_per_byte_year: per_byte,
            exemption_threshold: f64::from_bits(threshold),
            burn_percent: burn,
        };
        // SAFETY: `impl_sysvar_get!` passes a pointer to a `Rent` of this crate's type.
        unsafe { *(var_addr as *mut Rent) = rent };
        SUCCESS
    }

    fn sol_get_epoch_schedule_sysvar(&self, var_addr: *mut u8) -> u64 {
        let schedule =
            with_invoke_context(|ctx| ctx.environment_config.sysvar_cache().get_epoch_schedule().ok()).flatten();
        match schedule {
            Some(s) => {
                // SAFETY: `impl_sysvar_get!` passes a pointer to an `EpochSchedule` (same crate version).
                unsafe { *(var_addr as *mut EpochSchedule) = (*s).clone() };
                SUCCESS
            }
            None => UNSUPPORTED_SYSVAR,
        }
    }
}

/// Installs the 3.x → 4.x bridge once per process. The 4.x stubs it forwards CPI to are program-test's, which
/// `ProgramTest::start` installs (also once per process); a test validator must start one `ProgramTest` too.
pub fn install_sysvar_bridge() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        solana_sysvar_v3::program_stubs::set_syscall_stubs(Box::new(SysvarBridge));
    });
}
