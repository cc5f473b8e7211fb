// One processing element: int8 x int8 multiply, int32 accumulate.
// `a` moves right, `v` moves down, `s` stays:
//   LOAD (ws): v and s take v_in           -> weight rows shift down the column
//   WS       : v <= v_in + a_in * s[7:0]   -> partial sums move down, s holds the weight
//   OS       : v <= v_in, s <= s + a_in * v_in[7:0]  -> B moves down, s accumulates the output
module systolic_pe (
    input  logic               clk,
    input  logic               clear,    // zero all registers
    input  logic               en,
    input  logic [1:0]         op,
    input  logic signed [7:0]  a_in,
    input  logic signed [31:0] v_in,
    output logic signed [7:0]  a_out,
    output logic signed [31:0] v_out,
    output logic signed [31:0] v_next,   // what v_out becomes at the next edge
    output logic signed [31:0] s_out
);
    localparam logic [1:0] LOAD = 2'd0, WS = 2'd1, OS = 2'd2;

    logic signed [7:0] factor;
    assign factor = (op == OS) ? v_in[7:0] : s_out[7:0];
    assign v_next = (op == WS) ? v_in + a_in * factor : v_in;

    always_ff @(posedge clk) begin
        if (clear) begin
            a_out <= '0;
            v_out <= '0;
            s_out <= '0;
        end else if (en) begin
            a_out <= a_in;
            v_out <= v_next;
            if (op == LOAD) s_out <= v_in;
            else if (op == OS) s_out <= s_out + a_in * factor;
        end
    end
endmodule
