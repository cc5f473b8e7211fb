// A PIM DRAM bank group (SK hynix GDDR6-AiM style): BANKS banks sharing one command bus, each with a
// row buffer and an integer MAC unit, plus a global buffer (GB) shared by the banks.
//
// Command bus: one command per cycle (cmd_valid). Command ids and legality codes are those of
// hwsim/components/dram/standards.py COMMANDS and pim_kernel.py ILLEGAL. A command is checked
// against the bank state first, then against every timing rule of the GDDR6_AiM standard; an
// illegal command changes nothing. The response (resp_code, 0 = issued) appears the next cycle.
//
// Timing rules are kept as countdowns instead of timestamps: when command p issues, every following
// command f gets "f may not issue for lat(p, f) cycles" at the group level (channel = rank = bank
// group: one bank group) and, for a bank command, at that bank's level; the fourth most recent ACT
// bounds ACT by nFAW through a 4-entry ring. REFpb is not supported (as in the PIM stream model).
//
// Data path (hwsim/components/dram/pim_functional.py): 16-bit signed words, LANES words per column,
// a 32-bit wrapping accumulator per bank. RD data is valid nCL + nBL cycles after issue, RD_MAC data
// nBL cycles after issue (the cycle the last beat is on the pins); the whole burst is presented at
// once. WR/WR_GB data come with the command. `idle` is high once every issued command is complete
// (RD/WR data, precharge, refresh), i.e. from the model's done cycle on.
module dram_bank_group #(
    parameter int BANKS = 4,
    parameter int ROWS = 4,
    parameter int COLS = 4,
    parameter int LANES = 4,
    parameter int nBL = 2,
    parameter int nCL = 5,
    parameter int nCWL = 3,
    parameter int nRCD = 4,
    parameter int nRCDWR = 3,
    parameter int nRP = 4,
    parameter int nRPab = 5,
    parameter int nRAS = 8,
    parameter int nRC = 12,
    parameter int nWR = 4,
    parameter int nRTP = 2,
    parameter int nCCDS = 1,
    parameter int nCCDL = 2,
    parameter int nRRDS = 2,
    parameter int nRRDL = 3,
    parameter int nWTRS = 2,
    parameter int nWTRL = 3,
    parameter int nFAW = 10,
    parameter int nRFC = 15,
    parameter int nRCDRDMAC = 6,
    parameter int nCCDAB = 3,
    parameter int nRCDRDAF = 7,
    parameter int nRCDEWMUL = 5,
    localparam int BW = $clog2(BANKS),
    localparam int RW = $clog2(ROWS),
    localparam int CW = $clog2(COLS),
    localparam int DW = 16 * LANES
) (
    input  logic clk,
    input  logic rst_n,
    input  logic cmd_valid,
    input  logic [3:0] cmd,
    input  logic [BW-1:0] cmd_bank,
    input  logic [RW-1:0] cmd_row,
    input  logic [CW-1:0] cmd_col,
    input  logic [DW-1:0] cmd_data,          // WR / WR_GB data
    output logic resp_valid,
    output logic [3:0] resp_code,            // 0 issued, else the reason it was illegal
    output logic rd_valid,
    output logic [DW-1:0] rd_data,
    output logic mac_valid,
    output logic [32*BANKS-1:0] mac_data,    // bank b's accumulator at [32*b +: 32]
    output logic idle,
    input  logic load_we,                    // back door that fills the array (untimed, test set-up)
    input  logic [BW-1:0] load_bank,
    input  logic [RW-1:0] load_row,
    input  logic [CW-1:0] load_col,
    input  logic [DW-1:0] load_data
);
    localparam int N_CMD = 14;
    localparam logic [3:0] ACT = 0, PRE = 1, PREA = 2, RD = 3, WR = 4, REF = 5, ACT_ABK = 7,
                           MAC_ABK = 8, MAC_SBK = 9, WR_GB = 10, RD_MAC = 11, AF = 12, EWMUL = 13;
    localparam logic [3:0] OK = 0, ACT_OPEN = 1, COLUMN_CLOSED = 2, ALL_BANK_CLOSED = 3, ACT_ABK_OPEN = 4,
                           REF_OPEN = 5, PRE_CLOSED = 6, UNSUPPORTED = 7, TOO_EARLY = 8;
    localparam int RD_LAT = nCL + nBL;
    localparam int MAC_LAT = nBL;

    function automatic logic [N_CMD-1:0] m(input logic [3:0] c);
        return N_CMD'(1) << c;
    endfunction

    // lat(p, f) at the group level: the largest latency of the rules relating p to f
    function automatic int group_lat(input logic [3:0] p, input logic [3:0] f);
        int l = 0;
        logic [N_CMD-1:0] P = m(p), F = m(f);
        logic [N_CMD-1:0] COL = m(RD) | m(MAC_SBK) | m(RD_MAC);
        `define RULE(PS, FS, LAT) if (|(P & (PS)) && |(F & (FS)) && (LAT) > l) l = (LAT);
        // data bus, column to column, write to read
        `RULE(m(RD), m(RD), nBL)
        `RULE(m(WR), m(WR), nBL)
        `RULE(m(RD), m(RD), nCCDS)
        `RULE(m(WR), m(WR), nCCDS)
        `RULE(m(RD), m(RD), nCCDL)
        `RULE(m(WR), m(WR), nCCDL)
        `RULE(m(WR), m(RD), nCWL + nBL + nWTRS)
        `RULE(m(WR), m(RD), nCWL + nBL + nWTRL)
        `RULE(m(RD), m(WR), nCL + 1)
        // row to row, all-bank precharge and refresh
        `RULE(m(ACT), m(ACT), nRRDS)
        `RULE(m(ACT), m(ACT), nRRDL)
        `RULE(m(ACT), m(PREA), nRAS)
        `RULE(m(RD), m(PREA), nRTP)
        `RULE(m(WR), m(PREA), nCWL + nBL + nWR)
        `RULE(m(PREA), m(ACT) | m(REF), nRPab)
        `RULE(m(PRE), m(REF), nRP)
        `RULE(m(ACT), m(REF), nRC)
        `RULE(m(REF), m(ACT) | m(PREA) | m(REF), nRFC)
        // all-bank activate
        `RULE(m(ACT) | m(ACT_ABK), m(ACT_ABK), nRRDL)
        `RULE(m(ACT_ABK), m(ACT), nRRDL)
        `RULE(m(ACT_ABK), m(ACT_ABK), nRC)
        `RULE(m(PRE), m(ACT_ABK), nRP)
        `RULE(m(PREA), m(ACT_ABK), nRPab)
        `RULE(m(REF), m(ACT_ABK), nRFC)
        `RULE(m(ACT_ABK), m(REF), nRC)
        `RULE(m(ACT_ABK), m(PRE) | m(PREA), nRAS)
        `RULE(m(ACT_ABK), m(RD), nRCD)
        `RULE(m(ACT_ABK), m(WR), nRCDWR)
        // row to PIM column command
        `RULE(m(ACT) | m(ACT_ABK), m(MAC_ABK), nRCDRDMAC)
        `RULE(m(ACT_ABK), m(MAC_SBK), nRCDRDMAC)
        `RULE(m(ACT) | m(ACT_ABK), m(AF), nRCDRDAF)
        `RULE(m(ACT) | m(ACT_ABK), m(EWMUL), nRCDEWMUL)
        // PIM column to column
        `RULE(m(MAC_ABK), m(MAC_ABK), nCCDAB)
        `RULE(COL | m(AF) | m(EWMUL), m(AF) | m(EWMUL) | m(MAC_ABK), nCCDL)
        `RULE(m(MAC_ABK) | m(AF) | m(EWMUL), COL, nCCDL)
        `RULE(m(RD) | m(MAC_SBK), m(MAC_SBK), nCCDL)
        `RULE(m(MAC_SBK), m(RD), nCCDL)
        `RULE(m(RD) | m(MAC_SBK), m(MAC_SBK), nCCDS)
        `RULE(m(MAC_SBK), m(RD), nCCDS)
        // pins: MAC results out, GB data in
        `RULE(m(RD) | m(RD_MAC), m(RD_MAC), nBL)
        `RULE(m(RD_MAC), m(RD), nBL)
        `RULE(m(WR) | m(WR_GB), m(WR_GB), nBL)
        `RULE(m(WR_GB), m(WR), nBL)
        `RULE(m(WR_GB), m(MAC_ABK) | m(MAC_SBK) | m(EWMUL), nCWL + nBL)
        `RULE(m(WR) | m(WR_GB), m(RD_MAC), nCWL + nBL + nWTRS)
        `RULE(m(WR_GB), m(RD), nCWL + nBL + nWTRS)
        `RULE(m(RD_MAC), m(WR) | m(WR_GB), nBL + 2)
        `RULE(m(RD), m(WR_GB), nCL + nBL + 2 - nCWL)
        // PIM column to precharge
        `RULE(m(MAC_ABK) | m(AF), m(PRE), nRTP)
        `RULE(m(MAC_ABK) | m(AF) | m(MAC_SBK), m(PREA), nRTP)
        `RULE(m(EWMUL), m(PRE) | m(PREA), nCWL + nWR)
        return l;
    endfunction

    // lat(p, f) between bank commands to the same bank
    function automatic int bank_lat(input logic [3:0] p, input logic [3:0] f);
        int l = 0;
        logic [N_CMD-1:0] P = m(p), F = m(f);
        `RULE(m(ACT), m(ACT), nRC)
        `RULE(m(ACT), m(RD), nRCD)
        `RULE(m(ACT), m(WR), nRCDWR)
        `RULE(m(ACT), m(MAC_SBK), nRCDRDMAC)
        `RULE(m(ACT), m(PRE), nRAS)
        `RULE(m(PRE), m(ACT), nRP)
        `RULE(m(RD) | m(MAC_SBK), m(PRE), nRTP)
        `RULE(m(WR), m(PRE), nCWL + nBL + nWR)
        `undef RULE
        return l;
    endfunction

    // cycles from issue until the command's effect is complete (standards.COMPLETION)
    function automatic int completion(input logic [3:0] c);
        case (c)
            RD: return nCL + nBL;
            WR, WR_GB: return nCWL + nBL;
            PRE: return nRP;
            PREA: return nRPab;
            REF: return nRFC;
            RD_MAC: return nBL;
            default: return 1;
        endcase
    endfunction

    // countdown after issue: f may issue again once it is 0 (a latency of l allows issue l cycles later)
    function automatic int countdown(input int now, input int lat);
        int next = now > 0 ? now - 1 : 0;
        return lat - 1 > next ? lat - 1 : next;
    endfunction

    function automatic logic [31:0] dot(input logic [DW-1:0] a, input logic [DW-1:0] g);
        logic [31:0] s = 0;
        for (int l = 0; l < LANES; l++) s += 32'($signed(a[16*l +: 16]) * $signed(g[16*l +: 16]));
        return s;
    endfunction

    function automatic logic [DW-1:0] ewmul(input logic [DW-1:0] a, input logic [DW-1:0] g);
        logic [DW-1:0] y;
        for (int l = 0; l < LANES; l++) y[16*l +: 16] = 16'($signed(a[16*l +: 16]) * $signed(g[16*l +: 16]));
        return y;
    endfunction

    // ---- state -------------------------------------------------------------------------------
    logic [DW-1:0] mem [BANKS][ROWS][COLS];
    logic [DW-1:0] row_buffer [BANKS][COLS];
    logic [DW-1:0] gb [COLS];
    logic [31:0] acc [BANKS];
    logic is_open [BANKS];
    logic [RW-1:0] open_row [BANKS];
    int group_wait [N_CMD];
    int bank_wait [BANKS][N_CMD];
    int faw [4];
    logic [1:0] faw_next;                    // ring slot of the fourth most recent ACT
    int busy;
    logic rd_v [RD_LAT];
    logic [DW-1:0] rd_pipe [RD_LAT];
    logic mac_v [MAC_LAT];
    logic [32*BANKS-1:0] mac_pipe [MAC_LAT];

    // ---- legality: bank state first, then timing ---------------------------------------------
    logic any_open, all_on_row, bank_cmd, timing_ok, issue;
    logic [3:0] code;
    always_comb begin
        any_open = 0;
        all_on_row = 1;
        for (int b = 0; b < BANKS; b++) begin
            any_open |= is_open[b];
            all_on_row &= is_open[b] && open_row[b] == cmd_row;
        end
        bank_cmd = cmd == ACT || cmd == PRE || cmd == RD || cmd == WR || cmd == MAC_SBK;
        timing_ok = group_wait[cmd] == 0 && (!bank_cmd || bank_wait[cmd_bank][cmd] == 0)
                    && (cmd != ACT || faw[faw_next] == 0);
        case (cmd)
            ACT: code = is_open[cmd_bank] ? ACT_OPEN : OK;
            PRE: code = is_open[cmd_bank] ? OK : PRE_CLOSED;
            RD, WR, MAC_SBK: code = is_open[cmd_bank] && open_row[cmd_bank] == cmd_row ? OK : COLUMN_CLOSED;
            ACT_ABK: code = any_open ? ACT_ABK_OPEN : OK;
            MAC_ABK, AF, EWMUL: code = all_on_row ? OK : ALL_BANK_CLOSED;
            PREA, WR_GB, RD_MAC: code = OK;
            REF: code = any_open ? REF_OPEN : OK;
            default: code = UNSUPPORTED;
        endcase
        if (code == OK && !timing_ok) code = TOO_EARLY;
        issue = cmd_valid && code == OK;
    end

    // ---- timing state --------------------------------------------------------------------------
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            for (int f = 0; f < N_CMD; f++) group_wait[f] <= 0;
            for (int b = 0; b < BANKS; b++) for (int f = 0; f < N_CMD; f++) bank_wait[b][f] <= 0;
            for (int k = 0; k < 4; k++) faw[k] <= 0;
            faw_next <= 0;
            busy <= 0;
            resp_valid <= 0;
            resp_code <= OK;
        end else begin
            for (int f = 0; f < N_CMD; f++)
                group_wait[f] <= countdown(group_wait[f], issue ? group_lat(cmd, 4'(f)) : 0);
            for (int b = 0; b < BANKS; b++)
                for (int f = 0; f < N_CMD; f++)
                    bank_wait[b][f] <= countdown(bank_wait[b][f],
                                                 issue && bank_cmd && cmd_bank == BW'(b) ? bank_lat(cmd, 4'(f)) : 0);
            for (int k = 0; k < 4; k++)
                faw[k] <= countdown(faw[k], issue && cmd == ACT && faw_next == 2'(k) ? nFAW : 0);
            if (issue && cmd == ACT) faw_next <= faw_next + 1;
            busy <= countdown(busy, issue ? completion(cmd) : 0);
            resp_valid <= cmd_valid;
            resp_code <= code;
        end
    end
    assign idle = busy == 0;

    // ---- bank state and data path --------------------------------------------------------------
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            for (int b = 0; b < BANKS; b++) begin
                is_open[b] <= 0;
                open_row[b] <= 0;
                acc[b] <= 0;
            end
            for (int c = 0; c < COLS; c++) gb[c] <= 0;
        end else if (issue) begin
            case (cmd)
                ACT, ACT_ABK:
                    for (int b = 0; b < BANKS; b++)
                        if (cmd == ACT_ABK || cmd_bank == BW'(b)) begin
                            is_open[b] <= 1;
                            open_row[b] <= cmd_row;
                            for (int c = 0; c < COLS; c++) row_buffer[b][c] <= mem[b][cmd_row][c];
                        end
                PRE, PREA:
                    for (int b = 0; b < BANKS; b++)
                        if ((cmd == PREA || cmd_bank == BW'(b)) && is_open[b]) begin
                            is_open[b] <= 0;
                            for (int c = 0; c < COLS; c++) mem[b][open_row[b]][c] <= row_buffer[b][c];
                        end
                WR: row_buffer[cmd_bank][cmd_col] <= cmd_data;
                WR_GB: gb[cmd_col] <= cmd_data;
                MAC_ABK, MAC_SBK:
                    for (int b = 0; b < BANKS; b++)
                        if (cmd == MAC_ABK || cmd_bank == BW'(b))
                            acc[b] <= acc[b] + dot(row_buffer[b][cmd_col], gb[cmd_col]);
                RD_MAC: for (int b = 0; b < BANKS; b++) acc[b] <= 0;
                AF: for (int b = 0; b < BANKS; b++) if (acc[b][31]) acc[b] <= 0;
                EWMUL: for (int b = 0; b < BANKS; b++) row_buffer[b][cmd_col] <= ewmul(row_buffer[b][cmd_col], gb[cmd_col]);
                default: ;
            endcase
        end
        if (load_we) mem[load_bank][load_row][load_col] <= load_data;
    end

    // ---- read pipelines: data captured at issue, out in the completion cycle ---------------------
    logic [32*BANKS-1:0] acc_flat;
    always_comb for (int b = 0; b < BANKS; b++) acc_flat[32*b +: 32] = acc[b];

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            for (int k = 0; k < RD_LAT; k++) rd_v[k] <= 0;
            for (int k = 0; k < MAC_LAT; k++) mac_v[k] <= 0;
        end else begin
            rd_v[0] <= issue && cmd == RD;
            rd_pipe[0] <= row_buffer[cmd_bank][cmd_col];
            for (int k = 1; k < RD_LAT; k++) begin
                rd_v[k] <= rd_v[k-1];
                rd_pipe[k] <= rd_pipe[k-1];
            end
            mac_v[0] <= issue && cmd == RD_MAC;
            mac_pipe[0] <= acc_flat;
            for (int k = 1; k < MAC_LAT; k++) begin
                mac_v[k] <= mac_v[k-1];
                mac_pipe[k] <= mac_pipe[k-1];
            end
        end
    end
    assign rd_valid = rd_v[RD_LAT-1];
    assign rd_data = rd_pipe[RD_LAT-1];
    assign mac_valid = mac_v[MAC_LAT-1];
    assign mac_data = mac_pipe[MAC_LAT-1];
endmodule
